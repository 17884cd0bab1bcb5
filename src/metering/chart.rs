//! A usage report drawn as a self-contained SVG chart: the range as a series
//! over UTC days, every day of it on the x axis (days without deliveries
//! too), in stacked panels that share that axis: deliveries, billable units,
//! and the amount in each currency. Each day's column is stacked by group
//! (licensee, publisher, article, …), the groups named in a legend by their
//! labels; past [`TOP`] groups, the smaller ones are drawn together as one
//! "others" series. Grouped by day, there is one series and no legend.
//!
//! Hovering a column shows the day's figures, a segment the group's (SVG
//! `<title>`). No scripts, no external resources; every text is escaped, so
//! any headline or name in any script leaves the document well-formed XML.
//!
//! A range longer than [`MAX_DAYS`] is drawn from its first to its last day
//! with deliveries, and if that is still longer, its last [`MAX_DAYS`] days:
//! the subtitle names the days drawn.

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write;

use chrono::{Datelike, NaiveDate};

use crate::storage::reports::DayRow;

/// Groups drawn as series of their own; the rest are one "others" series.
pub const TOP: usize = 6;

/// The most days drawn.
pub const MAX_DAYS: usize = 1096;

/// Series colours (Tableau 10), then the "others" grey.
const PALETTE: [&str; TOP] = [
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2",
];
const OTHERS: &str = "#bab0ac";

const WIDTH: f64 = 960.0;
const LEFT: f64 = 84.0;
const RIGHT: f64 = 24.0;
const PLOT_HEIGHT: f64 = 120.0;

/// One drawn series: a group (or the others together) over the days.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// The legend's name for it.
    pub label: String,
    /// Its fill.
    pub colour: &'static str,
    /// Deliveries per day.
    pub deliveries: Vec<i64>,
    /// Billable units per day.
    pub billable_units: Vec<i64>,
    /// Amounts per currency (as in [`Chart::currencies`]), per day, in
    /// minor units.
    pub amounts: Vec<Vec<i64>>,
}

/// What the chart draws.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// Names what it shows.
    pub title: String,
    /// Every day drawn, in order.
    pub days: Vec<NaiveDate>,
    /// Largest group first; the others last.
    pub series: Vec<Series>,
    /// The currencies with priced deliveries, sorted.
    pub currencies: Vec<String>,
    /// Whether a legend names the series.
    pub legend: bool,
}

/// One measure drawn in a panel.
#[derive(Clone, Copy)]
enum Measure {
    Deliveries,
    BillableUnits,
    Amount(usize),
}

impl Measure {
    /// A series' values of this measure, per day; none for a currency it
    /// does not have.
    fn of(self, series: &Series) -> Option<&[i64]> {
        match self {
            Measure::Deliveries => Some(&series.deliveries),
            Measure::BillableUnits => Some(&series.billable_units),
            Measure::Amount(c) => series.amounts.get(c).map(Vec::as_slice),
        }
    }
}

impl Chart {
    /// The chart of `rows` over the days `first..=last` (none if `first`
    /// is after `last`). `by_day`: the report's groups are the days
    /// themselves, so the chart has one series.
    pub fn new(
        title: String,
        first: NaiveDate,
        last: NaiveDate,
        by_day: bool,
        rows: &[DayRow],
    ) -> Chart {
        let days = drawn_days(first, last, rows);
        let index: HashMap<String, usize> = days
            .iter()
            .enumerate()
            .map(|(i, day)| (day.format("%Y-%m-%d").to_string(), i))
            .collect();
        let currencies: Vec<String> = rows
            .iter()
            .filter_map(|r| r.row.currency.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let empty = |colour, label: String| Series {
            label,
            colour,
            deliveries: vec![0; days.len()],
            billable_units: vec![0; days.len()],
            amounts: vec![vec![0; days.len()]; currencies.len()],
        };
        // Every group, in the order first seen, with its series.
        let mut groups: Vec<(String, Series)> = Vec::new();
        for DayRow { day, row } in rows {
            let Some(&d) = index.get(day) else { continue };
            let key = if by_day { "" } else { row.key.as_str() };
            let at = match groups.iter().position(|(k, _)| k == key) {
                Some(at) => at,
                None => {
                    let label = if by_day {
                        "deliveries".to_owned()
                    } else {
                        row.label.clone()
                    };
                    groups.push((key.to_owned(), empty(OTHERS, label)));
                    groups.len() - 1
                }
            };
            let series = &mut groups[at].1;
            series.deliveries[d] += row.deliveries;
            series.billable_units[d] += row.billable_units;
            if let Some(c) = currencies
                .iter()
                .position(|c| Some(c) == row.currency.as_ref())
            {
                series.amounts[c][d] += row.amount_minor;
            }
        }
        let mut ranked: Vec<Series> = groups.into_iter().map(|(_, series)| series).collect();
        ranked.sort_by(|a, b| {
            let total = |s: &Series| {
                (
                    s.deliveries.iter().sum::<i64>(),
                    s.billable_units.iter().sum::<i64>(),
                )
            };
            total(b).cmp(&total(a)).then_with(|| a.label.cmp(&b.label))
        });
        // Seven groups draw as seven; eight as six and "2 others".
        let shown = if ranked.len() <= TOP + 1 {
            ranked.len()
        } else {
            TOP
        };
        let rest = ranked.split_off(shown);
        for (series, colour) in ranked.iter_mut().zip(PALETTE.iter().cycle()) {
            series.colour = colour;
        }
        if !rest.is_empty() {
            let mut others = empty(OTHERS, format!("{} others", rest.len()));
            for series in &rest {
                add(&mut others.deliveries, &series.deliveries);
                add(&mut others.billable_units, &series.billable_units);
                for (sum, amounts) in others.amounts.iter_mut().zip(&series.amounts) {
                    add(sum, amounts);
                }
            }
            ranked.push(others);
        }
        Chart {
            title,
            days,
            series: ranked,
            currencies,
            legend: !by_day,
        }
    }

    /// The chart as an SVG document.
    pub fn to_svg(&self) -> String {
        let mut panels = vec![
            ("Deliveries".to_owned(), Measure::Deliveries),
            ("Billable units".to_owned(), Measure::BillableUnits),
        ];
        for (c, currency) in self.currencies.iter().enumerate() {
            panels.push((format!("Amount, {currency}"), Measure::Amount(c)));
        }
        if self.currencies.is_empty() {
            panels.push(("Amount".to_owned(), Measure::Amount(usize::MAX)));
        }
        let legend_rows = if self.legend {
            self.series.len().div_ceil(self.legend_columns().0)
        } else {
            0
        };
        let first_panel = 70.0 + legend_rows as f64 * 20.0 + if self.legend { 10.0 } else { 0.0 };
        let panel_step = PLOT_HEIGHT + 52.0;
        let height = first_panel + panels.len() as f64 * panel_step + 30.0;
        let mut svg = String::new();
        let _ = write!(
            svg,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH:.0}\" height=\"{height:.0}\" \
             viewBox=\"0 0 {WIDTH:.0} {height:.0}\" font-family=\"sans-serif\" font-size=\"12\">\n\
             <title>{title}</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n\
             <text x=\"{LEFT}\" y=\"30\" font-size=\"17\" font-weight=\"bold\">{title}</text>\n\
             <text x=\"{LEFT}\" y=\"50\" fill=\"#555555\">{subtitle}</text>\n",
            title = escape(&self.title),
            subtitle = escape(&self.subtitle()),
        );
        if self.legend {
            self.legend_svg(&mut svg, 70.0);
        }
        let baselines: Vec<f64> = (0..panels.len())
            .map(|p| first_panel + p as f64 * panel_step + 24.0 + PLOT_HEIGHT)
            .collect();
        self.day_columns(
            &mut svg,
            first_panel + 24.0,
            baselines.last().copied().unwrap_or(0.0),
        );
        for ((name, measure), baseline) in panels.iter().zip(&baselines) {
            self.panel(&mut svg, name, *measure, *baseline);
        }
        svg.push_str("</svg>\n");
        svg
    }

    fn subtitle(&self) -> String {
        let range = match (self.days.first(), self.days.last()) {
            (Some(first), Some(last)) if first == last => format!("{}, UTC", long_day(*first)),
            (Some(first), Some(last)) => {
                format!("{} – {}, UTC days", long_day(*first), long_day(*last))
            }
            _ => "no days in this range".to_owned(),
        };
        let sum = |pick: fn(&Series) -> &Vec<i64>| -> i64 {
            self.series
                .iter()
                .map(|s| pick(s).iter().sum::<i64>())
                .sum()
        };
        let mut parts = vec![
            range,
            format!("{} deliveries", sum(|s| &s.deliveries)),
            format!("{} billable units", sum(|s| &s.billable_units)),
        ];
        for (c, currency) in self.currencies.iter().enumerate() {
            let total = self
                .series
                .iter()
                .map(|s| s.amounts[c].iter().sum::<i64>())
                .sum();
            parts.push(money(currency, total));
        }
        parts.join(" · ")
    }

    /// Three columns of legend while every label fits in one, else two
    /// wider ones; and the columns a label may take.
    fn legend_columns(&self) -> (usize, usize) {
        let short = self.series.iter().all(|s| columns(&s.label) <= 32);
        if short { (3, 32) } else { (2, 54) }
    }

    fn legend_svg(&self, svg: &mut String, top: f64) {
        let (count, width) = self.legend_columns();
        let column = (WIDTH - LEFT - RIGHT) / count as f64;
        for (i, series) in self.series.iter().enumerate() {
            let x = LEFT + (i % count) as f64 * column;
            let y = top + (i / count) as f64 * 20.0;
            let total: i64 = series.deliveries.iter().sum();
            let _ = writeln!(
                svg,
                "<g><title>{full}: {total} deliveries</title>\
                 <rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\">{short} <tspan fill=\"#555555\">({total})</tspan></text></g>",
                x + 18.0,
                y + 10.5,
                full = escape(&series.label),
                colour = series.colour,
                short = escape(&fit(&series.label, width)),
            );
        }
    }

    /// A column per day across all panels, under the bars: hovering one
    /// shows the day's figures.
    fn day_columns(&self, svg: &mut String, top: f64, bottom: f64) {
        let slot = self.slot();
        for (d, day) in self.days.iter().enumerate() {
            let sum = |pick: fn(&Series) -> &Vec<i64>| -> i64 {
                self.series.iter().map(|s| pick(s)[d]).sum()
            };
            let mut figures = format!(
                "{} deliveries, {} billable units",
                sum(|s| &s.deliveries),
                sum(|s| &s.billable_units)
            );
            for (c, currency) in self.currencies.iter().enumerate() {
                let amount = self.series.iter().map(|s| s.amounts[c][d]).sum();
                let _ = write!(figures, ", {}", money(currency, amount));
            }
            let _ = writeln!(
                svg,
                "<rect x=\"{:.2}\" y=\"{top:.1}\" width=\"{slot:.2}\" height=\"{:.1}\" fill=\"#000000\" fill-opacity=\"0\">\
                 <title>{} ({}): {figures}</title></rect>",
                LEFT + d as f64 * slot,
                bottom - top,
                day.format("%Y-%m-%d"),
                day.format("%a"),
            );
        }
    }

    fn slot(&self) -> f64 {
        (WIDTH - LEFT - RIGHT) / self.days.len().max(1) as f64
    }

    fn panel(&self, svg: &mut String, name: &str, measure: Measure, baseline: f64) {
        let top = baseline - PLOT_HEIGHT;
        let right = WIDTH - RIGHT;
        let values = |s| measure.of(s);
        let currency = match measure {
            Measure::Amount(c) => self.currencies.get(c).map(String::as_str),
            _ => None,
        };
        let max = (0..self.days.len())
            .map(|d| {
                self.series
                    .iter()
                    .filter_map(|s| values(s).map(|v| v[d]))
                    .sum::<i64>()
            })
            .max()
            .unwrap_or(0);
        let step = tick_step(max);
        let ceiling = ((max + step - 1) / step).max(1) * step;
        let y = |value: i64| baseline - (value as f64 / ceiling as f64) * PLOT_HEIGHT;
        let _ = writeln!(
            svg,
            "<text x=\"{LEFT}\" y=\"{:.1}\" font-size=\"13\" font-weight=\"bold\">{}</text>",
            top - 10.0,
            escape(name)
        );
        let mut tick = 0;
        while tick <= ceiling {
            let ty = y(tick);
            let label = match currency {
                Some(currency) => major(currency, tick, step),
                None => tick.to_string(),
            };
            let _ = writeln!(
                svg,
                "<line x1=\"{LEFT}\" y1=\"{ty:.1}\" x2=\"{right:.1}\" y2=\"{ty:.1}\" stroke=\"#e6e6e6\"/>\
                 <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#555555\">{label}</text>",
                LEFT - 8.0,
                ty + 4.0
            );
            tick += step;
        }
        let slot = self.slot();
        let bar = if self.days.len() <= 92 {
            slot * 0.72
        } else {
            slot
        };
        for (d, day) in self.days.iter().enumerate() {
            let x = LEFT + d as f64 * slot + (slot - bar) / 2.0;
            let mut stacked = 0;
            for series in &self.series {
                let Some(value) = values(series).map(|v| v[d]) else {
                    continue;
                };
                if value == 0 {
                    continue;
                }
                let (low, high) = (y(stacked), y(stacked + value));
                stacked += value;
                let shown = match currency {
                    Some(currency) => money(currency, value),
                    None => format!("{value} {}", name.to_lowercase()),
                };
                let _ = writeln!(
                    svg,
                    "<rect x=\"{x:.2}\" y=\"{high:.2}\" width=\"{bar:.2}\" height=\"{:.2}\" fill=\"{}\">\
                     <title>{} · {}: {}</title></rect>",
                    low - high,
                    series.colour,
                    escape(&series.label),
                    day.format("%Y-%m-%d"),
                    escape(&shown),
                );
            }
        }
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT}\" y1=\"{baseline:.1}\" x2=\"{right:.1}\" y2=\"{baseline:.1}\" stroke=\"#333333\"/>"
        );
        self.day_labels(svg, baseline);
        let note = if self.days.is_empty() {
            Some("No days in this range")
        } else if max > 0 {
            None
        } else if matches!(measure, Measure::Amount(_)) {
            Some("No priced deliveries in this range")
        } else {
            Some("No deliveries in this range")
        };
        if let Some(note) = note {
            let _ = writeln!(
                svg,
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#777777\">{note}</text>",
                LEFT + (right - LEFT) / 2.0,
                baseline - PLOT_HEIGHT / 2.0
            );
        }
    }

    /// Tick marks under every day (while they fit) and a date under every
    /// `every`th.
    fn day_labels(&self, svg: &mut String, baseline: f64) {
        let slot = self.slot();
        let every = [1, 2, 7, 14, 28, 91, 182, 364]
            .into_iter()
            .find(|every| self.days.len().div_ceil(*every) <= 14)
            .unwrap_or(364);
        for (d, day) in self.days.iter().enumerate() {
            let x = LEFT + (d as f64 + 0.5) * slot;
            let labelled = d % every == 0;
            if slot >= 4.0 || labelled {
                let _ = writeln!(
                    svg,
                    "<line x1=\"{x:.2}\" y1=\"{baseline:.1}\" x2=\"{x:.2}\" y2=\"{:.1}\" stroke=\"#333333\"/>",
                    baseline + if labelled { 5.0 } else { 3.0 }
                );
            }
            if labelled {
                let text = if every >= 28 {
                    day.format("%b %Y").to_string()
                } else {
                    format!("{} {}", day.day(), day.format("%b"))
                };
                let _ = writeln!(
                    svg,
                    "<text x=\"{x:.2}\" y=\"{:.1}\" text-anchor=\"middle\" fill=\"#555555\">{text}</text>",
                    baseline + 18.0
                );
            }
        }
    }
}

/// The days drawn of `first..=last` (see the module's note on long ranges).
fn drawn_days(first: NaiveDate, last: NaiveDate, rows: &[DayRow]) -> Vec<NaiveDate> {
    let span = |first: NaiveDate, last: NaiveDate| (last - first).num_days() + 1;
    if span(first, last) < 1 {
        return Vec::new();
    }
    let (mut first, mut last) = (first, last);
    if span(first, last) > MAX_DAYS as i64 {
        let with = rows
            .iter()
            .filter_map(|r| NaiveDate::parse_from_str(&r.day, "%Y-%m-%d").ok())
            .filter(|day| (first..=last).contains(day));
        let (min, max) = with.fold(
            (None, None),
            |(min, max): (Option<NaiveDate>, Option<NaiveDate>), day| {
                (
                    Some(min.map_or(day, |m| m.min(day))),
                    Some(max.map_or(day, |m| m.max(day))),
                )
            },
        );
        if let (Some(min), Some(max)) = (min, max) {
            (first, last) = (min, max);
        }
        if span(first, last) > MAX_DAYS as i64 {
            first = last - chrono::Duration::days(MAX_DAYS as i64 - 1);
        }
    }
    first.iter_days().take_while(|day| *day <= last).collect()
}

fn add(sum: &mut [i64], values: &[i64]) {
    for (s, v) in sum.iter_mut().zip(values) {
        *s += v;
    }
}

/// "Fri 27 Nov 2026".
fn long_day(day: NaiveDate) -> String {
    format!("{} {} {}", day.format("%a"), day.day(), day.format("%b %Y"))
}

/// Digits after the decimal point of a currency (ISO 4217).
fn minor_digits(currency: &str) -> u32 {
    match currency {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX"
        | "UYI" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        "CLF" | "UYW" => 4,
        _ => 2,
    }
}

/// An amount in minor units as major units: "12.50"; without the
/// decimals when `step` (the axis's) is whole major units.
fn major(currency: &str, minor: i64, step: i64) -> String {
    let digits = minor_digits(currency);
    let unit = 10_i64.pow(digits);
    if digits == 0 || step % unit == 0 {
        (minor / unit).to_string()
    } else {
        format!(
            "{}.{:0width$}",
            minor / unit,
            minor % unit,
            width = digits as usize
        )
    }
}

/// "GBP 12.50".
fn money(currency: &str, minor: i64) -> String {
    format!("{currency} {}", major(currency, minor, 1))
}

/// A round step for `max` spread over about four ticks.
fn tick_step(max: i64) -> i64 {
    let raw = (max.max(1) as f64 / 4.0).max(1.0);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(raw);
    step as i64
}

/// Escapes text for SVG (XML 1.0): markup characters as entities, and the
/// control characters XML cannot hold at all left out.
pub fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(c),
            c if c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => escaped.push(c),
        }
    }
    escaped
}

/// `text` cut to about `width` columns with an ellipsis, counting wide
/// (East Asian) characters as two.
fn fit(text: &str, width: usize) -> String {
    if columns(text) <= width {
        return text.to_owned();
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let wide = if is_wide(c) { 2 } else { 1 };
        if used + wide > width.saturating_sub(1) {
            break;
        }
        used += wide;
        cut.push(c);
    }
    cut.push('…');
    cut
}

/// The columns `text` takes, wide characters two.
fn columns(text: &str) -> usize {
    text.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF
        | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6 | 0x20000..=0x3FFFD)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::reports::ReportRow;

    fn row(day: &str, key: &str, label: &str, currency: Option<&str>, n: i64) -> DayRow {
        DayRow {
            day: day.to_owned(),
            row: ReportRow {
                key: key.to_owned(),
                label: label.to_owned(),
                currency: currency.map(str::to_owned),
                deliveries: n,
                billable_units: n - 1,
                amount_minor: (n - 1) * 25,
            },
        }
    }

    fn date(day: &str) -> NaiveDate {
        NaiveDate::parse_from_str(day, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn every_day_of_the_range_is_drawn_with_zeros_where_nothing_was_delivered() {
        let rows = [
            row("2026-11-27", "a", "Morning Brief", Some("GBP"), 3),
            row("2026-11-30", "a", "Morning Brief", Some("GBP"), 2),
        ];

        let chart = Chart::new(
            "t".into(),
            date("2026-11-26"),
            date("2026-12-01"),
            false,
            &rows,
        );

        assert_eq!(chart.days.len(), 6);
        assert_eq!(chart.series[0].deliveries, [0, 3, 0, 0, 2, 0]);
        assert_eq!(chart.series[0].billable_units, [0, 2, 0, 0, 1, 0]);
        assert_eq!(chart.series[0].amounts, [vec![0, 50, 0, 0, 25, 0]]);
        let svg = chart.to_svg();
        assert!(svg.contains("2026-11-28 (Sat): 0 deliveries, 0 billable units, GBP 0.00"));
    }

    #[test]
    fn past_seven_groups_the_smallest_are_drawn_as_others() {
        let rows: Vec<DayRow> = (1..=9)
            .map(|n| {
                row(
                    "2026-11-27",
                    &format!("k{n}"),
                    &format!("Group {n}"),
                    None,
                    n + 1,
                )
            })
            .collect();

        let nine = Chart::new(
            "t".into(),
            date("2026-11-27"),
            date("2026-11-27"),
            false,
            &rows,
        );
        let seven = Chart::new(
            "t".into(),
            date("2026-11-27"),
            date("2026-11-27"),
            false,
            &rows[2..],
        );

        let labels: Vec<&str> = nine.series.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "Group 9", "Group 8", "Group 7", "Group 6", "Group 5", "Group 4", "3 others"
            ]
        );
        assert_eq!(nine.series[6].deliveries, [2 + 3 + 4]);
        assert_eq!(nine.series[6].colour, OTHERS);
        assert_eq!(seven.series.len(), 7, "seven groups need no others");
    }

    #[test]
    fn a_report_by_day_is_one_series_without_a_legend() {
        let rows = [
            row("2026-11-27", "2026-11-27", "2026-11-27", None, 4),
            row("2026-11-28", "2026-11-28", "2026-11-28", None, 2),
        ];

        let chart = Chart::new(
            "t".into(),
            date("2026-11-27"),
            date("2026-11-28"),
            true,
            &rows,
        );

        assert_eq!(chart.series.len(), 1);
        assert_eq!(chart.series[0].deliveries, [4, 2]);
        assert!(!chart.legend);
        assert!(
            chart
                .to_svg()
                .contains("No priced deliveries in this range")
        );
    }

    #[test]
    fn a_very_long_range_is_drawn_from_its_first_to_its_last_delivery() {
        let rows = [
            row("2026-03-02", "a", "A", None, 2),
            row("2026-11-30", "a", "A", None, 2),
        ];

        let chart = Chart::new(
            "t".into(),
            date("1970-01-01"),
            date("9999-12-31"),
            false,
            &rows,
        );

        assert_eq!(chart.days.first(), Some(&date("2026-03-02")));
        assert_eq!(chart.days.last(), Some(&date("2026-11-30")));
        assert!(
            Chart::new(
                "t".into(),
                date("2026-12-02"),
                date("2026-12-01"),
                false,
                &[]
            )
            .days
            .is_empty()
        );
    }

    #[test]
    fn text_is_escaped_and_cut_by_columns() {
        assert_eq!(
            escape("A&B <i>\"q\" 'x'\u{7}"),
            "A&amp;B &lt;i&gt;&quot;q&quot; &apos;x&apos;"
        );
        assert_eq!(fit("新华社新华社新华社", 8), "新华社…");
        assert_eq!(fit("Harbour Gazette", 20), "Harbour Gazette");
        assert_eq!(fit("Harbour Gazette", 8), "Harbour…");
    }

    #[test]
    fn amounts_are_shown_in_major_units_of_their_currency() {
        assert_eq!(money("GBP", 1250), "GBP 12.50");
        assert_eq!(money("JPY", 1250), "JPY 1250");
        assert_eq!(money("KWD", 1250), "KWD 1.250");
        assert_eq!(major("GBP", 500, 100), "5");
        assert_eq!(major("GBP", 50, 25), "0.50");
    }

    #[test]
    fn ticks_are_round_numbers() {
        assert_eq!(tick_step(0), 1);
        assert_eq!(tick_step(12), 5);
        assert_eq!(tick_step(480), 200);
    }
}
