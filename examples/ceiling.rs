//! The benchmark's ceiling: a bare actix-web server that checks a static
//! bearer string and answers `GET /v1/content/{id}` with fixed bytes from
//! memory (the body the real endpoint returned for one article). Nothing
//! is verified, decided, read or recorded: it is what the hardware and the
//! framework can do, for comparing the real endpoint against.
//!
//! `cargo run --release --example ceiling -- ADDRESS BODY_FILE TOKEN`

use actix_web::http::header;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

struct Fixed {
    body: web::Bytes,
    authorization: String,
}

async fn content(req: HttpRequest, fixed: web::Data<Fixed>) -> HttpResponse {
    let allowed = req
        .headers()
        .get(header::AUTHORIZATION)
        .is_some_and(|value| value.as_bytes() == fixed.authorization.as_bytes());
    if !allowed {
        return HttpResponse::Unauthorized().finish();
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .body(fixed.body.clone())
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = || std::io::Error::other("usage: ceiling ADDRESS BODY_FILE TOKEN");
    let address = args.next().ok_or_else(usage)?;
    let body = std::fs::read(args.next().ok_or_else(usage)?)?;
    let token = args.next().ok_or_else(usage)?;
    let fixed = web::Data::new(Fixed {
        body: body.into(),
        authorization: format!("Bearer {token}"),
    });
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            App::new()
                .app_data(fixed.clone())
                .route("/v1/content/{id}", web::get().to(content))
        })
        .bind(address)?
        .run()
        .await
    })
}
