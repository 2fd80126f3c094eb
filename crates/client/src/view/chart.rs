//! Line charts of a run's history, as geometry: the points of a metric, the
//! SVG path through them and the axis ticks. The web app draws the SVG.

use serde_json::{Map, Value};

/// What the x axis shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum XAxis {
    /// `_step`.
    #[default]
    Step,
    /// Seconds since the first row (`_timestamp`).
    Time,
}

impl XAxis {
    pub fn label(self) -> &'static str {
        match self {
            Self::Step => "step",
            Self::Time => "time",
        }
    }
}

/// The `(x, y)` points of `key`, in x order; rows without a number for it
/// are skipped.
pub fn series(rows: &[Map<String, Value>], key: &str, x: XAxis) -> Vec<(f64, f64)> {
    let t0 = rows
        .iter()
        .filter_map(|r| r.get("_timestamp").and_then(Value::as_f64))
        .fold(f64::INFINITY, f64::min);
    let mut points: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| {
            let y = r.get(key)?.as_f64().filter(|y| y.is_finite())?;
            let x = match x {
                XAxis::Step => r.get("_step")?.as_f64()?,
                XAxis::Time => r.get("_timestamp")?.as_f64()? - t0,
            };
            Some((x, y))
        })
        .collect();
    liftoff_model::sort::sort_by(&mut points, |a, b| a.0.total_cmp(&b.0));
    points
}

/// A tick: where (in pixels) and its label.
#[derive(Clone, Debug, PartialEq)]
pub struct Tick {
    pub at: f64,
    pub label: String,
}

/// A plotted point: where it is drawn (pixels) and its values.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point {
    pub px: f64,
    pub py: f64,
    pub x: f64,
    pub y: f64,
}

/// A point as the chart's hover label says it: `step 12: 0.345`.
pub fn point_text(p: &Point, axis: XAxis) -> String {
    let at = match axis {
        XAxis::Step => value_text(&Value::from(p.x)),
        XAxis::Time => seconds(p.x),
    };
    format!("{} {at}: {}", axis.label(), value_text(&Value::from(p.y)))
}

/// A chart's geometry in a `width` x `height` box.
#[derive(Clone, Debug, PartialEq)]
pub struct Plot {
    pub width: f64,
    pub height: f64,
    /// The plotting area: left, top, right, bottom (pixels).
    pub area: (f64, f64, f64, f64),
    /// `M x y L x y ...`; empty without points.
    pub path: String,
    pub x_ticks: Vec<Tick>,
    pub y_ticks: Vec<Tick>,
    /// The last point, in pixels, and its value (the chart's headline).
    pub last: Option<(f64, f64, f64)>,
    /// Every point, in x order (what hovering reads).
    pub points: Vec<Point>,
}

const LEFT: f64 = 52.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 26.0;

impl Plot {
    pub fn new(points: &[(f64, f64)], x: XAxis, width: f64, height: f64) -> Self {
        let (x0, x1) = bounds(points.iter().map(|p| p.0));
        let (y0, y1) = bounds(points.iter().map(|p| p.1));
        let y_ticks_v = nice_ticks(y0, y1, 5);
        let x_ticks_v = nice_ticks(x0, x1, 6);
        let y_step = step_of(&y_ticks_v);
        let y_labels: Vec<String> = y_ticks_v.iter().map(|v| number(*v, y_step)).collect();
        // Room on the left for the longest y label (about 6.5 px a character).
        let widest = y_labels
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        let left = LEFT.max(10.0 + 6.5 * widest as f64).min(width / 2.0);
        let area = (left, TOP, width - RIGHT, height - BOTTOM);
        // Extend the y range to the outer ticks so the line sits inside them.
        let (ylo, yhi) = (
            y_ticks_v.first().copied().unwrap_or(y0).min(y0),
            y_ticks_v.last().copied().unwrap_or(y1).max(y1),
        );
        let sx = |v: f64| area.0 + (v - x0) / (x1 - x0) * (area.2 - area.0);
        let sy = |v: f64| area.3 - (v - ylo) / (yhi - ylo) * (area.3 - area.1);
        let mut path = String::new();
        for (i, (px, py)) in points.iter().enumerate() {
            path.push_str(&format!(
                "{}{:.1} {:.1}",
                if i == 0 { "M" } else { " L" },
                sx(*px),
                sy(*py)
            ));
        }
        let x_step = step_of(&x_ticks_v);
        Plot {
            width,
            height,
            area,
            path,
            x_ticks: x_ticks_v
                .iter()
                .filter(|v| **v >= x0 && **v <= x1)
                .map(|v| Tick {
                    at: sx(*v),
                    label: match x {
                        XAxis::Step => number(*v, x_step),
                        XAxis::Time => seconds(*v),
                    },
                })
                .collect(),
            y_ticks: y_ticks_v
                .iter()
                .zip(y_labels)
                .map(|(v, label)| Tick { at: sy(*v), label })
                .collect(),
            last: points.last().map(|(px, py)| (sx(*px), sy(*py), *py)),
            points: points
                .iter()
                .map(|&(x, y)| Point {
                    px: sx(x),
                    py: sy(y),
                    x,
                    y,
                })
                .collect(),
        }
    }

    /// The index of the point drawn nearest to `px` across.
    pub fn nearest(&self, px: f64) -> Option<usize> {
        let i = self.points.partition_point(|p| p.px < px);
        let before = i.checked_sub(1);
        let after = (i < self.points.len()).then_some(i);
        match (before, after) {
            (Some(b), Some(a)) => Some(if px - self.points[b].px <= self.points[a].px - px {
                b
            } else {
                a
            }),
            (b, a) => b.or(a),
        }
    }
}

/// The range of values, widened when empty or flat so scales never divide by zero.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < f64::EPSILON * lo.abs().max(1.0) {
        let pad = if lo == 0.0 { 1.0 } else { lo.abs() * 0.1 };
        return (lo - pad, hi + pad);
    }
    (lo, hi)
}

fn step_of(ticks: &[f64]) -> f64 {
    match ticks {
        [a, b, ..] => b - a,
        _ => 1.0,
    }
}

/// Round tick values covering `[lo, hi]` (1, 2 or 5 times a power of ten apart).
pub fn nice_ticks(lo: f64, hi: f64, count: usize) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) || hi <= lo || count < 2 {
        return vec![];
    }
    let raw = (hi - lo) / (count - 1) as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).floor() as i64;
    // Round to the step's decimals: 3 * 0.2 is 0.6, not 0.6000000000000001.
    let scale = 10f64.powi((-step.log10().floor()).max(0.0) as i32 + 1);
    let mut out = Vec::new();
    for k in first.. {
        let v = (k as f64 * step * scale).round() / scale;
        if v >= hi + step * 0.5 || out.len() > 50 {
            break;
        }
        out.push(v);
    }
    out
}

/// A tick label with as many decimals as the step needs; large values get k/M.
pub fn number(v: f64, step: f64) -> String {
    let a = v.abs();
    if a >= 1e6 && step >= 1e5 {
        return format!("{}M", trim(v / 1e6, 2));
    }
    if a >= 1e4 && step >= 1e3 {
        return format!("{}k", trim(v / 1e3, 1));
    }
    if a != 0.0 && a < 1e-3 {
        // As many digits as tell one tick from the next (1.2e-4, 1.25e-4).
        let digits = ((a / step).log10().ceil().max(1.0) as usize).min(8);
        return format!("{v:.digits$e}");
    }
    // Values that barely change keep the decimals that tell them apart
    // (1.0000002, not 1.0e0 on every tick).
    let decimals = if step >= 1.0 {
        0
    } else {
        ((-step.log10()).ceil() as usize).min(12)
    };
    format!("{v:.decimals$}")
}

fn trim(v: f64, decimals: usize) -> String {
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// `45s`, `3m`, `1h30m`.
pub fn seconds(v: f64) -> String {
    let s = v.round() as i64;
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 && s % 60 == 0 => format!("{}m", s / 60),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s => format!("{}h{}m", s / 3600, (s % 3600) / 60),
    }
}

/// A metric value as the summary shows it: integers as they are, others
/// with four significant digits.
pub fn value_text(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_f64() => {
            let f = n.as_f64().unwrap_or(0.0);
            if f != 0.0 && (f.abs() < 1e-3 || f.abs() >= 1e6) {
                format!("{f:.4e}")
            } else {
                let s = format!("{f:.4}");
                s.trim_end_matches('0').trim_end_matches('.').to_owned()
            }
        }
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rows() -> Vec<Map<String, Value>> {
        [
            json!({"_step": 2, "_timestamp": 1000.5, "loss": 0.5}),
            json!({"_step": 0, "_timestamp": 1000.0, "loss": 1.0}),
            json!({"_step": 1, "_timestamp": 1000.25, "acc": 0.1}),
            json!({"_step": 3, "_timestamp": 1001.0, "loss": "NaN"}),
        ]
        .into_iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect()
    }

    #[test]
    fn series_by_step_and_by_time() {
        assert_eq!(
            series(&rows(), "loss", XAxis::Step),
            vec![(0.0, 1.0), (2.0, 0.5)]
        );
        assert_eq!(
            series(&rows(), "loss", XAxis::Time),
            vec![(0.0, 1.0), (0.5, 0.5)]
        );
        assert!(series(&rows(), "nope", XAxis::Step).is_empty());
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(nice_ticks(0.0, 1.0, 5), vec![0.0, 0.5, 1.0]);
        assert_eq!(nice_ticks(0.0, 1.0, 8), vec![0.0, 0.2, 0.4, 0.6, 0.8, 1.0]);
        assert_eq!(
            nice_ticks(3.0, 97.0, 6),
            vec![0.0, 20.0, 40.0, 60.0, 80.0, 100.0]
        );
        assert!(nice_ticks(1.0, 1.0, 5).is_empty());
        assert_eq!(number(0.25, 0.05), "0.25");
        assert_eq!(number(20000.0, 5000.0), "20k");
        assert_eq!(number(0.00012, 0.00005), "1.2e-4");
        assert_eq!(number(0.000125, 0.000005), "1.25e-4");
        // Values that barely change: each tick says its own value.
        let ticks = nice_ticks(1.0000001, 1.0000004, 5);
        let step = step_of(&ticks);
        let labels: Vec<String> = ticks.iter().map(|v| number(*v, step)).collect();
        let mut distinct = labels.clone();
        distinct.dedup();
        assert_eq!(distinct.len(), labels.len(), "{labels:?}");
        assert_eq!(labels[0], "1.00000010");
        // and the plot leaves room for them on the left.
        let p = Plot::new(
            &[(0.0, 1.0000001), (1.0, 1.0000004)],
            XAxis::Step,
            300.0,
            150.0,
        );
        assert!(p.area.0 >= 10.0 + 6.5 * 10.0, "{:?}", p.area);
        assert_eq!(seconds(90.0), "1m30s");
        assert_eq!(seconds(7200.0), "2h");
        assert_eq!(value_text(&json!(0.123456)), "0.1235");
        assert_eq!(value_text(&json!(3)), "3");
    }

    #[test]
    fn plots_fit_their_box() {
        let p = Plot::new(&[(0.0, 1.0), (10.0, 0.0)], XAxis::Step, 300.0, 150.0);
        assert_eq!(p.path, "M52.0 10.0 L288.0 124.0");
        assert_eq!(p.last, Some((288.0, 124.0, 0.0)));
        assert_eq!(p.x_ticks.first().map(|t| t.label.as_str()), Some("0"));
        assert_eq!(p.x_ticks.last().map(|t| t.label.as_str()), Some("10"));
        assert_eq!(p.y_ticks.len(), 3);
        // One point, or none, still plots.
        let one = Plot::new(&[(5.0, 2.0)], XAxis::Step, 300.0, 150.0);
        assert!(one.path.starts_with('M'));
        assert_eq!(Plot::new(&[], XAxis::Time, 300.0, 150.0).path, "");
    }

    #[test]
    fn hovering_finds_the_nearest_point() {
        let p = Plot::new(
            &[(0.0, 1.0), (4.0, 0.5), (10.0, 0.25)],
            XAxis::Step,
            300.0,
            150.0,
        );
        let xs: Vec<f64> = p.points.iter().map(|q| q.px).collect();
        assert_eq!(xs, vec![52.0, 146.4, 288.0]);
        assert_eq!(p.nearest(0.0), Some(0));
        assert_eq!(p.nearest(99.0), Some(0));
        assert_eq!(p.nearest(100.0), Some(1));
        assert_eq!(p.nearest(146.4), Some(1));
        assert_eq!(p.nearest(1000.0), Some(2));
        assert_eq!(
            Plot::new(&[], XAxis::Step, 300.0, 150.0).nearest(10.0),
            None
        );
        assert_eq!(point_text(&p.points[1], XAxis::Step), "step 4: 0.5");
        let t = Plot::new(&[(65.0, 0.123456)], XAxis::Time, 300.0, 150.0);
        assert_eq!(point_text(&t.points[0], XAxis::Time), "time 1m5s: 0.1235");
    }
}
