//! A usage report drawn as a self-contained SVG bar chart: deliveries and
//! billable units per group, with axes, labels and a legend; no scripts,
//! no external resources.

use crate::storage::usage::ReportRow;

/// Escapes text for SVG.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A short label for a group key (ids are shortened to their last block).
fn label(key: &str) -> String {
    if key.len() == 36 && key.matches('-').count() == 4 {
        format!("…{}", &key[24..])
    } else {
        key.chars().take(12).collect()
    }
}

/// A round step for `max` spread over about five ticks.
fn tick_step(max: i64) -> i64 {
    let raw = (max.max(1) as f64 / 5.0).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(raw);
    step as i64
}

/// The chart; `title` names what it shows.
pub fn render(title: &str, grouping: &str, rows: &[ReportRow]) -> String {
    // Merge currencies: the chart counts deliveries, not money.
    let mut groups: Vec<(String, i64, i64)> = Vec::new();
    for row in rows {
        match groups.iter_mut().find(|g| g.0 == row.key) {
            Some(group) => {
                group.1 += row.deliveries;
                group.2 += row.billable_units;
            }
            None => groups.push((row.key.clone(), row.deliveries, row.billable_units)),
        }
    }
    let (left, top, plot_height, bar, gap) = (70.0, 60.0, 260.0, 18.0, 22.0);
    let width = (left + 40.0 + groups.len().max(1) as f64 * (2.0 * bar + gap)).max(480.0);
    let height = top + plot_height + 90.0;
    let max = groups.iter().map(|g| g.1).max().unwrap_or(0);
    let step = tick_step(max);
    let ceiling = ((max + step - 1) / step).max(1) * step;
    let y = |value: i64| top + plot_height - (value as f64 / ceiling as f64) * plot_height;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <title>{}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n\
         <text x=\"{left}\" y=\"28\" font-size=\"16\" font-weight=\"bold\">{}</text>\n",
        escape(title),
        escape(title)
    );
    let mut tick = 0;
    while tick <= ceiling {
        let ty = y(tick);
        svg.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{ty:.1}\" x2=\"{:.1}\" y2=\"{ty:.1}\" stroke=\"#e0e0e0\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{tick}</text>\n",
            width - 20.0,
            left - 8.0,
            ty + 4.0
        ));
        tick += step;
    }
    svg.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{:.1}\" stroke=\"#333\"/>\n\
         <line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#333\"/>\n\
         <text x=\"18\" y=\"{:.1}\" transform=\"rotate(-90 18 {:.1})\" text-anchor=\"middle\">deliveries</text>\n",
        top + plot_height,
        top + plot_height,
        width - 20.0,
        top + plot_height,
        top + plot_height / 2.0,
        top + plot_height / 2.0
    ));
    for (i, (key, deliveries, billable)) in groups.iter().enumerate() {
        let x = left + 12.0 + i as f64 * (2.0 * bar + gap);
        for (offset, value, colour, name) in [
            (0.0, *deliveries, "#4a78b5", "deliveries"),
            (bar, *billable, "#e08a2c", "billable units"),
        ] {
            let top_y = y(value);
            svg.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{top_y:.1}\" width=\"{bar}\" height=\"{:.1}\" fill=\"{colour}\"><title>{}: {value} {name}</title></rect>\n",
                x + offset,
                top + plot_height - top_y,
                escape(key)
            ));
        }
        let lx = x + bar;
        let ly = top + plot_height + 14.0;
        svg.push_str(&format!(
            "<text x=\"{lx:.1}\" y=\"{ly:.1}\" text-anchor=\"end\" transform=\"rotate(-35 {lx:.1} {ly:.1})\">{}</text>\n",
            escape(&label(key))
        ));
    }
    if groups.is_empty() {
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#666\">No deliveries in this range</text>\n",
            left + (width - left) / 2.0,
            top + plot_height / 2.0
        ));
    }
    let legend_y = height - 22.0;
    svg.push_str(&format!(
        "<rect x=\"{left}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"#4a78b5\"/><text x=\"{:.1}\" y=\"{legend_y:.1}\">deliveries</text>\n\
         <rect x=\"{:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"#e08a2c\"/><text x=\"{:.1}\" y=\"{legend_y:.1}\">billable units</text>\n\
         <text x=\"{:.1}\" y=\"{legend_y:.1}\" text-anchor=\"end\" fill=\"#666\">per {}</text>\n</svg>\n",
        legend_y - 10.0,
        left + 18.0,
        left + 110.0,
        legend_y - 10.0,
        left + 128.0,
        width - 20.0,
        escape(grouping)
    ));
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chart_has_a_bar_pair_per_group_axes_and_a_legend() {
        let rows = vec![
            ReportRow {
                key: "2026-11-27".into(),
                currency: Some("GBP".into()),
                deliveries: 12,
                billable_units: 9,
                amount_minor: 225,
            },
            ReportRow {
                key: "2026-11-28".into(),
                currency: None,
                deliveries: 3,
                billable_units: 3,
                amount_minor: 0,
            },
        ];

        let svg = render("Usage <test>", "day", &rows);

        assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert_eq!(
            svg.matches("<rect x=").count(),
            4 + 2,
            "two bars per day and two legend swatches"
        );
        assert!(
            svg.contains("2026-11-27: 12 deliveries")
                && svg.contains("2026-11-28: 3 billable units")
        );
        assert!(
            svg.contains("Usage &lt;test&gt;")
                && svg.contains(">billable units</text>")
                && svg.contains(">per day</text>")
        );
        assert!(!svg.contains("<script") && !svg.contains("href"));
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(0), 1);
        assert_eq!(tick_step(12), 5);
        assert_eq!(tick_step(480), 100);
    }
}
