//! A data table: a box that scrolls sideways on narrow screens, a caption
//! for screen readers and the header row; the caller gives the `<tbody>`s.

use leptos::prelude::*;

/// A header cell: its label, and whether the column holds numbers (right
/// aligned). An empty label is an actions column (named for screen readers).
pub type Column = (&'static str, bool);

#[component]
pub fn DataTable(
    #[prop(into)] class: String,
    #[prop(into)] caption: String,
    columns: Vec<Column>,
    /// A leading header cell (e.g. a select-all checkbox).
    #[prop(optional, into)]
    lead: Option<ViewFn>,
    /// The `<tbody>`s (none: the caller draws them into the table itself).
    #[prop(optional)]
    children: Option<Children>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class=format!("data {class}")>
                <caption class="sr-only">{caption}</caption>
                <thead><tr>
                    {lead.map(|l| view! { <th scope="col" class="check">{l.run()}</th> })}
                    {columns.into_iter().map(|(label, num)| match label {
                        "" => view! { <th scope="col"><span class="sr-only">"Actions"</span></th> }.into_any(),
                        l => view! { <th scope="col" class:num=num>{l}</th> }.into_any(),
                    }).collect_view()}
                </tr></thead>
                {children.map(|c| c())}
            </table>
        </div>
    }
}
