//! Stable sorts with one copy of the sorting algorithm.
//!
//! `Vec::sort_by` is monomorphized per closure: each call site carried its
//! own 3-4 KB of driftsort into the web app's wasm. These sort an index
//! vector through one `dyn` comparator instead (same order, same stability),
//! which is plenty for the lists a page shows.

use std::cmp::Ordering;

/// `v.sort_by(cmp)`: stable.
pub fn sort_by<T>(v: &mut Vec<T>, mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let mut order: Vec<usize> = (0..v.len()).collect();
    sort_indices(&mut order, &mut |a, b| cmp(&v[a], &v[b]));
    let mut slots: Vec<Option<T>> = v.drain(..).map(Some).collect();
    v.extend(order.into_iter().filter_map(|i| slots[i].take()));
}

/// `v.sort_by_key(key)`: stable.
pub fn sort_by_key<T, K: Ord>(v: &mut Vec<T>, mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// `v.sort()`: stable.
pub fn sort<T: Ord>(v: &mut Vec<T>) {
    sort_by(v, T::cmp);
}

#[inline(never)]
fn sort_indices(order: &mut [usize], cmp: &mut dyn FnMut(usize, usize) -> Ordering) {
    order.sort_by(|&a, &b| cmp(a, b));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_std_and_stays_stable() {
        let data: Vec<(u8, usize)> = [5u8, 1, 3, 1, 5, 0, 3, 3, 9, 0]
            .into_iter()
            .enumerate()
            .map(|(i, k)| (k, i))
            .collect();
        let mut ours = data.clone();
        sort_by_key(&mut ours, |p| p.0);
        let mut std = data.clone();
        std.sort_by_key(|p| p.0);
        assert_eq!(ours, std);
        let mut rev = data.clone();
        sort_by(&mut rev, |a, b| b.0.cmp(&a.0));
        let mut std_rev = data.clone();
        std_rev.sort_by_key(|p| std::cmp::Reverse(p.0));
        assert_eq!(rev, std_rev);
        let mut plain = data;
        sort(&mut plain);
        assert!(plain.windows(2).all(|w| w[0] <= w[1]));
        let mut empty: Vec<u8> = vec![];
        sort(&mut empty);
        assert!(empty.is_empty());
    }
}
