//! Text rules stated twice from one source: the OpenAPI document carries
//! them as `pattern`s (so clients and property-based tests know them), and
//! the validators run the same expressions, so the two cannot drift.

use std::sync::LazyLock;

use regex::Regex;

/// Single-line text: no control character (Unicode Cc) and at least one
/// character that is not white space. Leading and trailing white space is
/// trimmed when stored.
pub const LINE: &str = r"^[^\x00-\x1F\x7F-\x9F]*[^\s\x00-\x1F\x7F-\x9F][^\x00-\x1F\x7F-\x9F]*$";

/// An article body: any text but control characters other than tab, line
/// feed and carriage return.
pub const BODY: &str = r"^[^\x00-\x08\x0B\x0C\x0E-\x1F\x7F-\x9F]*$";

/// A well-formed BCP 47 language tag of the forms news uses: a language,
/// optionally a script, optionally a region (`en`, `en-GB`, `sr-Latn-RS`,
/// `es-419`). Case is not significant.
pub const LANGUAGE: &str = r"^[A-Za-z]{2,3}(-[A-Za-z]{4})?(-([A-Za-z]{2}|[0-9]{3}))?$";

/// An absolute http(s) URL with a host name (not an address literal) and
/// only URL-safe ASCII in its path and query.
pub const WEB_URL: &str = r"^https?://([A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(:[0-9]{1,4})?(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?(\?[A-Za-z0-9._~!$&'()*+,;=:@%/?-]*)?$";

/// A media type `type/subtype` without parameters (`image/jpeg`).
pub const MIME_TYPE: &str = r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+$";

// The patterns are constants; `every_pattern_compiles` below checks them.
#[allow(clippy::expect_used)]
fn compiled(pattern: &'static str) -> Regex {
    Regex::new(pattern).expect("a constant pattern compiles")
}

static LINE_RE: LazyLock<Regex> = LazyLock::new(|| compiled(LINE));
static BODY_RE: LazyLock<Regex> = LazyLock::new(|| compiled(BODY));
static LANGUAGE_RE: LazyLock<Regex> = LazyLock::new(|| compiled(LANGUAGE));
static WEB_URL_RE: LazyLock<Regex> = LazyLock::new(|| compiled(WEB_URL));
static MIME_TYPE_RE: LazyLock<Regex> = LazyLock::new(|| compiled(MIME_TYPE));

/// Whether `value` is single-line text (see [`LINE`]).
pub fn is_line(value: &str) -> bool {
    LINE_RE.is_match(value)
}

/// Whether `value` may be an article body (see [`BODY`]).
pub fn is_body(value: &str) -> bool {
    BODY_RE.is_match(value)
}

/// Whether `value` is a language tag (see [`LANGUAGE`]).
pub fn is_language(value: &str) -> bool {
    LANGUAGE_RE.is_match(value)
}

/// Whether `value` is a web URL (see [`WEB_URL`]).
pub fn is_web_url(value: &str) -> bool {
    WEB_URL_RE.is_match(value)
}

/// Whether `value` is a media type (see [`MIME_TYPE`]).
pub fn is_mime_type(value: &str) -> bool {
    MIME_TYPE_RE.is_match(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pattern_compiles() {
        for pattern in [LINE, BODY, LANGUAGE, WEB_URL, MIME_TYPE] {
            assert!(Regex::new(pattern).is_ok(), "{pattern}");
        }
    }

    #[test]
    fn lines_need_a_visible_character_and_no_control_character() {
        for good in ["a", "  Harbour Gazette ", "خبر", "📰", "a\u{a0}b"] {
            assert!(is_line(good), "{good:?}");
        }
        for bad in [
            "",
            "   ",
            "a\0b",
            "tab\there",
            "line\nbreak",
            "esc\u{1b}",
            "c1\u{85}",
        ] {
            assert!(!is_line(bad), "{bad:?}");
        }
    }

    #[test]
    fn line_is_what_single_line_accepts() {
        for text in [
            "a",
            " a ",
            "",
            " ",
            "\u{2003}",
            "a\u{2003}",
            "x\u{9f}",
            "\u{7f}",
            "ok\u{a0}",
            "a\n",
            "\tb",
            "0\u{85}",
        ] {
            assert_eq!(
                is_line(text),
                crate::domain::text::single_line(text, 1000).is_ok(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn bodies_keep_line_breaks_and_tabs_only() {
        assert!(is_body("<p>a</p>\n\t<p>b</p>\r\n"));
        assert!(is_body(""));
        for bad in ["\0", "bell\u{7}", "\u{1b}[0m", "\u{85}"] {
            assert!(!is_body(bad), "{bad:?}");
        }
    }

    #[test]
    fn languages_urls_and_media_types() {
        for good in ["en", "en-GB", "sr-Latn-RS", "es-419", "EN-gb"] {
            assert!(is_language(good), "{good}");
        }
        for bad in ["", "e", "english", "en_GB", "en-", "en-GB-x"] {
            assert!(!is_language(bad), "{bad}");
        }
        for good in [
            "https://example.org",
            "http://news.example.org:8080/a/b?c=d&e=f",
        ] {
            assert!(is_web_url(good), "{good}");
            assert!(url::Url::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "ftp://example.org",
            "https://",
            "https://1.2.3.4/",
            "javascript:alert(1)",
            "https://a b",
        ] {
            assert!(!is_web_url(bad), "{bad}");
        }
        assert!(is_mime_type("image/jpeg"));
        assert!(!is_mime_type("image"));
        assert!(!is_mime_type("image/jpeg; q=1"));
    }
}
