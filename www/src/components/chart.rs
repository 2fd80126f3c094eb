//! A line chart of one metric, drawn as SVG (no chart library).

use leptos::prelude::*;
use liftoff_client::view::chart::{Plot, XAxis, series};
use serde_json::{Map, Value};

const W: f64 = 420.0;
const H: f64 = 220.0;

#[component]
pub fn LineChart(
    #[prop(into)] metric: String,
    #[prop(into)] rows: Signal<Vec<Map<String, Value>>>,
    #[prop(into)] x: Signal<XAxis>,
) -> impl IntoView {
    let key = metric.clone();
    let plot = Memo::new(move |_| {
        let axis = x.get();
        rows.with(|r| Plot::new(&series(r, &key, axis), axis, W, H))
    });
    let title_id = format!(
        "chart-{}",
        metric.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    view! {
        <figure class="chart">
            <figcaption id=title_id.clone()>
                <span>{metric.clone()}</span>
                <span class="last">{move || plot.with(|p| p.last.map(|l| liftoff_client::view::chart::value_text(&Value::from(l.2))))}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-labelledby=title_id>
                {move || plot.with(|p| {
                    let (l, t, r, b) = p.area;
                    let grid = p.y_ticks.iter().map(|tick| view! {
                        <line class="grid" x1=l y1=tick.at x2=r y2=tick.at />
                        <text class="tick" x=l - 6.0 y=tick.at + 4.0 text-anchor="end">{tick.label.clone()}</text>
                    }).collect_view();
                    let xt = p.x_ticks.iter().map(|tick| view! {
                        <line class="axis" x1=tick.at y1=b x2=tick.at y2=b + 4.0 />
                        <text class="tick" x=tick.at y=b + 17.0 text-anchor="middle">{tick.label.clone()}</text>
                    }).collect_view();
                    let dot = p.last.map(|(cx, cy, _)| view! { <circle class="dot" cx=cx cy=cy r="3" /> });
                    let empty = p.path.is_empty().then(|| view! {
                        <text class="tick" x=(l + r) / 2.0 y=(t + b) / 2.0 text-anchor="middle">"no data yet"</text>
                    });
                    view! {
                        {grid}
                        <line class="axis" x1=l y1=b x2=r y2=b />
                        {xt}
                        <path class="line" d=p.path.clone() />
                        {dot}
                        {empty}
                    }
                })}
            </svg>
        </figure>
    }
}
