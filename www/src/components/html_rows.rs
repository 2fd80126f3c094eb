//! Table rows drawn from HTML, keyed: the queue page's thousand items.
//! Building them node by node (one DOM call per element and attribute, one
//! `innerHTML` per row) took most of a second; here every new or changed
//! row of a redraw comes from one parse. A row keeps its element for as long
//! as its item is listed: when what it shows changes (a duration ticking,
//! "12 s ago"), the element is brought in line node by node ([`morph`]), so
//! focus, a text selection, an open `<details>` and an open priority editor
//! (`data-keep`) survive the poll. Only misplaced rows move.

use std::collections::HashMap;

use wasm_bindgen::JsCast as _;
use web_sys::{Element, HtmlTemplateElement, Node};

/// The rows drawn into one table so far: (id, content key, element).
#[derive(Default)]
pub struct HtmlRows {
    table: Option<Element>,
    drawn: Vec<(String, String, Element)>,
}

impl HtmlRows {
    /// Make `table`'s drawn rows `rows`, in order: each an id, a key
    /// (everything the row shows) and its markup (one `<tbody>`, from
    /// escaped values), asked for only when the id is new or its key
    /// changed. Answers the rows it created.
    pub fn draw<F: FnOnce() -> String>(
        &mut self,
        table: &Element,
        rows: impl IntoIterator<Item = (String, String, F)>,
    ) -> Vec<Element> {
        if self.table.as_ref() != Some(table) {
            // A new table (the old one was replaced): nothing of ours is in it.
            self.table = Some(table.clone());
            self.drawn.clear();
        }
        let mut old: HashMap<String, (String, Element)> = self
            .drawn
            .drain(..)
            .map(|(id, key, el)| (id, (key, el)))
            .collect();
        let mut order = Vec::new();
        let mut markup = String::new();
        for (id, key, html) in rows {
            let kept = old.get(&id).is_some_and(|(k, _)| *k == key);
            if !kept {
                markup.push_str(&html());
            }
            order.push((id, key, kept));
        }
        let parsed = parse(&markup);
        let mut next_parsed = parsed.into_iter();
        let mut created = Vec::new();
        for (id, key, kept) in order {
            let el = match (old.remove(&id), kept) {
                (Some((_, el)), true) => el,
                (previous, false) => {
                    // Markup that was not one <tbody> per row: draw what parsed.
                    let Some(new) = next_parsed.next() else {
                        continue;
                    };
                    match previous {
                        Some((_, el)) => {
                            // Left partly as it was: draw it again next time.
                            let key = if morph(&el, &new) { key } else { String::new() };
                            self.drawn.push((id, key, el));
                            continue;
                        }
                        None => {
                            created.push(new.clone());
                            new
                        }
                    }
                }
                (None, true) => continue,
            };
            self.drawn.push((id, key, el));
        }
        for (_, el) in old.into_values() {
            el.remove();
        }
        // The rows still in the table are in their old order: walk the new
        // order with a cursor on them, moving a row only when it is not the
        // one under the cursor (new rows are inserted there).
        let mut cursor = table.query_selector(":scope > tbody").ok().flatten();
        for (_, _, el) in &self.drawn {
            if cursor.as_ref() == Some(el) {
                cursor = el.next_element_sibling();
            } else {
                let _ = table.insert_before(el, cursor.as_ref().map(AsRef::as_ref));
            }
        }
        created
    }
}

/// Make `old` show what `new` shows, keeping every node whose tag is the
/// same: attributes set and removed (an open `<details>` stays open), text
/// changed in place, children matched pairwise in order (a child of another
/// kind replaced, extra ones added or removed), so a row that gains an error
/// line keeps its first line as it was. What the user is working in
/// (`data-keep`) is left as it is: answers false then, and the row is
/// brought in line again at the next draw.
fn morph(old: &Element, new: &Element) -> bool {
    if old.has_attribute("data-keep") {
        return false;
    }
    let names = |e: &Element| -> Vec<String> {
        e.get_attribute_names()
            .iter()
            .filter_map(|n| n.as_string())
            .collect()
    };
    for name in names(new) {
        let value = new.get_attribute(&name);
        if old.get_attribute(&name) != value {
            let _ = old.set_attribute(&name, value.as_deref().unwrap_or_default());
        }
    }
    for name in names(old) {
        let user_opened = name == "open" && old.tag_name() == "DETAILS";
        if !user_opened && !new.has_attribute(&name) {
            let _ = old.remove_attribute(&name);
        }
    }
    let nodes = |e: &Element| -> Vec<Node> {
        let list = e.child_nodes();
        (0..list.length()).filter_map(|i| list.item(i)).collect()
    };
    let keeps = |n: &Node| {
        n.dyn_ref::<Element>().is_some_and(|e| {
            e.has_attribute("data-keep") || e.query_selector("[data-keep]").ok().flatten().is_some()
        })
    };
    let (from, to) = (nodes(old), nodes(new));
    let mut complete = true;
    for i in 0..from.len().max(to.len()) {
        match (from.get(i), to.get(i)) {
            (Some(a), Some(b))
                if a.node_type() == b.node_type() && a.node_name() == b.node_name() =>
            {
                match (a.dyn_ref::<Element>(), b.dyn_ref::<Element>()) {
                    (Some(a), Some(b)) => complete &= morph(a, b),
                    _ if a.node_value() != b.node_value() => {
                        a.set_node_value(b.node_value().as_deref())
                    }
                    _ => {}
                }
            }
            (Some(a), Some(_)) if keeps(a) => complete = false,
            (Some(a), Some(b)) => {
                let _ = old.replace_child(b, a);
            }
            (Some(a), None) if keeps(a) => complete = false,
            (Some(a), None) => {
                let _ = old.remove_child(a);
            }
            (None, Some(b)) => {
                let _ = old.append_child(b);
            }
            (None, None) => {}
        }
    }
    complete
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
