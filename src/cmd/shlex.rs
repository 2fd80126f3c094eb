//! Split a command line into words, as Python's `shlex.split` does
//! (W&B's `--entry-point` uses it): quotes and backslashes, no expansion.

pub fn split(s: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(x) => cur.push(x),
                        None => return Err(format!("unclosed ' in {s:?}")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(x @ ('"' | '\\' | '$' | '`')) => cur.push(x),
                            Some(x) => {
                                cur.push('\\');
                                cur.push(x);
                            }
                            None => return Err(format!("unclosed \" in {s:?}")),
                        },
                        Some(x) => cur.push(x),
                        None => return Err(format!("unclosed \" in {s:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(x) = chars.next() {
                    cur.push(x);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_like_shlex() {
        assert_eq!(
            super::split("python train.py --lr 0.1").unwrap(),
            ["python", "train.py", "--lr", "0.1"]
        );
        assert_eq!(
            super::split(r#"sh -c "echo 'a b'; exit 3""#).unwrap(),
            ["sh", "-c", "echo 'a b'; exit 3"]
        );
        assert_eq!(super::split(r"a\ b 'c d' ''").unwrap(), ["a b", "c d", ""]);
        assert!(super::split("'open").is_err());
    }
}
