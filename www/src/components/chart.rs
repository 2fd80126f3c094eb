//! A line chart of one metric, drawn as SVG (no chart library). Pointing
//! at it, or the arrow keys once it has the focus, show a point's value.

use leptos::prelude::*;
use liftoff_client::view::chart::{Plot, XAxis, point_text, series};
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
    // The point shown (an index into the plot's points), if any.
    let hover = RwSignal::new(None::<usize>);
    // Another x axis puts the points elsewhere: the shown one goes.
    Effect::new(move |_| {
        x.track();
        hover.set(None);
    });
    let svg = NodeRef::<leptos::svg::Svg>::new();
    let on_move = move |ev: leptos::ev::MouseEvent| {
        let Some(el) = svg.get_untracked() else {
            return;
        };
        // From the svg's own box: offsetX would be the line's or a label's
        // when the pointer is over one.
        let bounds = el.get_bounding_client_rect();
        let width = bounds.width();
        if width > 0.0 {
            let px = (f64::from(ev.client_x()) - bounds.left()) * W / width;
            hover.set(plot.with_untracked(|p| p.nearest(px)));
        }
    };
    let on_key = move |ev: leptos::ev::KeyboardEvent| {
        let count = plot.with_untracked(|p| p.points.len());
        let last = count.checked_sub(1);
        let at = hover.get_untracked().filter(|i| *i < count);
        let next = match ev.key().as_str() {
            "ArrowLeft" => at.map_or(last, |i| Some(i.saturating_sub(1))),
            "ArrowRight" => at.map_or(last, |i| Some((i + 1).min(count - 1))),
            "Home" => (count > 0).then_some(0),
            "End" => last,
            "Escape" => None,
            _ => return,
        };
        ev.prevent_default();
        hover.set(next);
    };
    let shown = move || {
        hover.get().and_then(|i| {
            plot.with(|p| p.points.get(i).copied())
                .map(|q| (q, x.get()))
        })
    };
    let title_id = format!(
        "chart-{}",
        metric.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
    );
    view! {
        <figure class="chart">
            <figcaption id=title_id.clone()>
                <span>{metric.clone()}</span>
                <span class="last" aria-live="polite">{move || match shown() {
                    Some((q, axis)) => Some(point_text(&q, axis)),
                    None => plot.with(|p| p.last.map(|l| liftoff_client::view::chart::value_text(&Value::from(l.2)))),
                }}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {W} {H}") role="img" aria-labelledby=title_id tabindex="0"
                node_ref=svg on:mousemove=on_move on:mouseleave=move |_| hover.set(None)
                on:keydown=on_key on:blur=move |_| hover.set(None)>
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
                {move || shown().map(|(q, _)| {
                    let (_, t, _, b) = plot.with(|p| p.area);
                    view! {
                        <line class="guide" x1=q.px y1=t x2=q.px y2=b />
                        <circle class="dot hover" cx=q.px cy=q.py r="4" />
                    }
                })}
            </svg>
        </figure>
    }
}
