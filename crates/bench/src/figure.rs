//! One measured figure. Every suite prints its figures as `BENCH {json}`
//! lines on stdout; `cargo xtask bench` collects them into one Markdown table
//! (and, for a full run, README's Benchmarks section).

use serde_json::{Value, json};

/// What a figure must reach, in the figure's unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    AtLeast(f64),
    AtMost(f64),
    Below(f64),
}

impl Target {
    pub fn met(self, value: f64) -> bool {
        match self {
            Target::AtLeast(t) => value >= t,
            Target::AtMost(t) => value <= t,
            Target::Below(t) => value < t,
        }
    }

    fn text(self, unit: &str) -> String {
        let (op, t) = match self {
            Target::AtLeast(t) => (">=", t),
            Target::AtMost(t) => ("<=", t),
            Target::Below(t) => ("<", t),
        };
        format!("{op} {}", with_unit(t, unit))
    }
}

/// A figure: Liftoff's value, the official Python agent's or CLI's when it
/// has a counterpart, and the target when there is one.
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    pub figure: String,
    /// `ms`, `MB`, `/s`, `rows/s`...
    pub unit: &'static str,
    pub liftoff: f64,
    pub python: Python,
    pub target: Option<Target>,
    /// Throughput (more is better) rather than time or size: decides which
    /// way the ratio is taken.
    pub higher_is_better: bool,
}

/// The Python column of a figure.
#[derive(Clone, Debug, PartialEq)]
pub enum Python {
    /// No Python counterpart (a server figure): `-`.
    None,
    Value(f64),
    /// Could not be measured, and why.
    Missing(String),
}

impl Figure {
    /// A time or a size (less is better) with no Python counterpart.
    pub fn lower(figure: impl Into<String>, unit: &'static str, liftoff: f64) -> Self {
        Figure {
            figure: figure.into(),
            unit,
            liftoff,
            python: Python::None,
            target: None,
            higher_is_better: false,
        }
    }

    /// A throughput (more is better) with no Python counterpart.
    pub fn higher(figure: impl Into<String>, unit: &'static str, liftoff: f64) -> Self {
        Figure {
            higher_is_better: true,
            ..Figure::lower(figure, unit, liftoff)
        }
    }

    pub fn target(mut self, target: Target) -> Self {
        self.target = Some(target);
        self
    }

    pub fn python(mut self, python: Python) -> Self {
        self.python = python;
        self
    }

    /// How many times better Liftoff is: official / Liftoff for times and
    /// sizes, Liftoff / official for throughputs.
    pub fn ratio(&self) -> Option<f64> {
        let Python::Value(p) = self.python else {
            return None;
        };
        let (num, den) = if self.higher_is_better {
            (self.liftoff, p)
        } else {
            (p, self.liftoff)
        };
        (den > 0.0).then(|| num / den)
    }

    /// The machine-readable form: texts as the table shows them, plus the
    /// numbers behind them.
    pub fn to_json(&self) -> Value {
        let (python, python_value) = match &self.python {
            Python::None => ("-".to_owned(), None),
            Python::Value(v) => (with_unit(*v, self.unit), Some(*v)),
            Python::Missing(why) => (why.clone(), None),
        };
        json!({
            "figure": self.figure,
            "unit": self.unit,
            "liftoff": with_unit(self.liftoff, self.unit),
            "liftoff_value": self.liftoff,
            "python": python,
            "python_value": python_value,
            "ratio": self.ratio(),
            "target": self.target.map(|t| t.text(self.unit)),
            "met": self.target.map(|t| t.met(self.liftoff)),
        })
    }

    /// Print the `BENCH {json}` line `cargo xtask bench` reads.
    pub fn emit(&self) {
        println!("BENCH {}", self.to_json());
    }
}

/// `1,513/s`, `23.0 ms`, `0.84 ms`, `19.9 MB`: two decimals below 10, one
/// below 100, whole numbers (with thousands separators) above and for
/// round values (targets).
pub fn with_unit(value: f64, unit: &str) -> String {
    let number = number(value);
    if unit.starts_with('/') || unit.is_empty() {
        format!("{number}{unit}")
    } else {
        format!("{number} {unit}")
    }
}

fn number(value: f64) -> String {
    let abs = value.abs();
    if abs >= 100.0 || abs.fract() == 0.0 {
        let whole = format!("{:.0}", abs);
        let mut out = String::new();
        for (i, c) in whole.chars().enumerate() {
            if i > 0 && (whole.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        if value < 0.0 {
            out.insert(0, '-');
        }
        out
    } else if abs >= 10.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_the_table() {
        assert_eq!(with_unit(1513.2, "/s"), "1,513/s");
        assert_eq!(with_unit(1_234_567.0, "rows/s"), "1,234,567 rows/s");
        assert_eq!(with_unit(23.04, "ms"), "23.0 ms");
        assert_eq!(with_unit(0.844, "ms"), "0.84 ms");
        assert_eq!(with_unit(200.0, "ms"), "200 ms");
        assert_eq!(with_unit(0.0, "ms"), "0 ms");
    }

    #[test]
    fn the_ratio_says_how_many_times_better_liftoff_is() {
        let time = Figure::lower("t", "ms", 20.0).python(Python::Value(5000.0));
        assert_eq!(time.ratio(), Some(250.0));
        let rate = Figure::higher("r", "/s", 300.0).python(Python::Value(100.0));
        assert_eq!(rate.ratio(), Some(3.0));
        assert_eq!(Figure::lower("t", "ms", 1.0).ratio(), None);
    }

    #[test]
    fn the_json_line_says_whether_the_target_is_met() {
        let f = Figure::higher("pushes/s", "/s", 1513.0).target(Target::AtLeast(2000.0));
        let j = f.to_json();
        assert_eq!(j["liftoff"], "1,513/s");
        assert_eq!(j["target"], ">= 2,000/s");
        assert_eq!(j["met"], false);
        assert_eq!(j["python"], "-");
        assert!(j["ratio"].is_null());
        let f = Figure::lower("p99", "ms", 3.0).target(Target::Below(10.0));
        assert_eq!(f.to_json()["met"], true);
        assert_eq!(f.to_json()["target"], "< 10 ms");
    }
}
