//! Table rows drawn from HTML, keyed: the queue page's thousand items.
//! Building them node by node (one DOM call per element and attribute, one
//! `innerHTML` per row) took most of a second; here every new row of a
//! redraw comes from one parse, rows whose key did not change keep their
//! element (and its focus, an open `<details>`), and only misplaced rows move.

use std::collections::HashMap;

use wasm_bindgen::JsCast as _;
use web_sys::{Element, HtmlTemplateElement};

/// The rows drawn into one table so far.
#[derive(Default)]
pub struct HtmlRows {
    table: Option<Element>,
    drawn: Vec<(String, Element)>,
}

impl HtmlRows {
    /// Make `table`'s drawn rows `rows`, in order: each a key (everything
    /// the row shows) and its markup (one `<tbody>`, from escaped values),
    /// asked for only when the key is new. Answers the rows it created.
    pub fn draw<F: FnOnce() -> String>(
        &mut self,
        table: &Element,
        rows: impl IntoIterator<Item = (String, F)>,
    ) -> Vec<Element> {
        if self.table.as_ref() != Some(table) {
            // A new table (the old one was replaced): nothing of ours is in it.
            self.table = Some(table.clone());
            self.drawn.clear();
        }
        let mut old: HashMap<String, Element> = self.drawn.drain(..).collect();
        let mut keys = Vec::new();
        let mut markup = String::new();
        for (key, html) in rows {
            if !old.contains_key(&key) {
                markup.push_str(&html());
            }
            keys.push(key);
        }
        let fresh = parse(&markup);
        let mut next_fresh = fresh.iter().cloned();
        for key in keys {
            let el = match old.remove(&key) {
                Some(el) => el,
                // Markup that was not one <tbody> per row: draw what parsed.
                None => match next_fresh.next() {
                    Some(el) => el,
                    None => continue,
                },
            };
            self.drawn.push((key, el));
        }
        for el in old.into_values() {
            el.remove();
        }
        // The rows still in the table are in their old order: walk the new
        // order with a cursor on them, moving a row only when it is not the
        // one under the cursor (new rows are inserted there).
        let mut cursor = table.query_selector(":scope > tbody").ok().flatten();
        for (_, el) in &self.drawn {
            if cursor.as_ref() == Some(el) {
                cursor = el.next_element_sibling();
            } else {
                let _ = table.insert_before(el, cursor.as_ref().map(AsRef::as_ref));
            }
        }
        fresh
    }
}

/// `markup`'s top-level elements, parsed in one go (a `<template>` parses
/// `<tbody>`s as a table would).
fn parse(markup: &str) -> Vec<Element> {
    if markup.is_empty() {
        return vec![];
    }
    let Some(template) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.create_element("template").ok())
        .and_then(|e| e.dyn_into::<HtmlTemplateElement>().ok())
    else {
        return vec![];
    };
    template.set_inner_html(markup);
    let children = template.content().children();
    (0..children.length())
        .filter_map(|i| children.item(i))
        .collect()
}
