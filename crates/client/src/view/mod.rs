//! View models: pure functions from operation answers to what the web app
//! (and the extension) shows. No IO; the current time is a parameter.
//! Components render these values and nothing else decides for them.

pub mod chart;
pub mod html;
pub mod items;
pub mod queues;

use crate::error::Error;
use crate::ops::identity::{ServerFeatures, features};

/// A console line as the run page shows it. W&B's `output.log` lines
/// (`<ts> <text>`, and `ERROR <ts> <text>` for stderr, the time UTC
/// `YYYY-MM-DDTHH:MM:SS.ffffff`) get their time cut to `HH:MM:SS` and
/// stderr said as such, not `ERROR`: wandb writes its own notes there.
/// Other lines (the agent's) stay as they are.
pub fn console_line(text: &str) -> String {
    let (stderr, rest) = match text.strip_prefix("ERROR ") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (stamp, body) = rest.split_once(' ').unwrap_or((rest, ""));
    let b = stamp.as_bytes();
    let is_stamp = b.len() >= 19
        && stamp.is_char_boundary(19)
        && [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')]
            .iter()
            .all(|&(i, c)| b[i] == c);
    if !is_stamp {
        return terminal_text(text);
    }
    let body = terminal_text(body);
    let time = &stamp[11..19];
    let line = if stderr {
        format!("{time} stderr {body}")
    } else {
        format!("{time} {body}")
    };
    line.trim_end().to_owned()
}

/// A line of terminal output as a terminal would leave it: a progress
/// bar's `\r` frames give way to the last one, and escape sequences
/// (colours, cursor moves) are taken out instead of shown as `[32m`.
pub fn terminal_text(text: &str) -> String {
    // Escapes out of each frame first: a frame of escapes only (`\r` then
    // a colour reset) leaves the frame before it on screen.
    text.split('\r')
        .map(without_escapes)
        .rfind(|frame| !frame.is_empty())
        .unwrap_or_default()
}

/// `text` without terminal escape sequences.
fn without_escapes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\u{1b}' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // CSI: parameters and intermediates, then one final byte.
            Some('[') => {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC (a window title, a link): to BEL or ESC \.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\u{7}' {
                        break;
                    }
                    if c == '\u{1b}' && chars.peek() == Some(&'\\') {
                        chars.next();
                        break;
                    }
                }
            }
            // A character set (`tput sgr0` sends ESC ( B): one more byte.
            Some('(' | ')' | '*' | '+') => {
                chars.next();
            }
            _ => {}
        }
    }
    out
}

/// What the server lets the web app do beyond W&B's own operations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    /// Queue details with items and their runs, item counts, cancel,
    /// requeue, priority changes (`LIFTOFF_QUEUE_ADMIN`).
    pub queue_admin: bool,
    /// The agents of a queue or an entity (`LIFTOFF_LAUNCH_AGENTS`).
    pub agents: bool,
    /// Stop polling (`LIFTOFF_STOP_POLLING`).
    pub stop_polling: bool,
    /// Console lines of a run (`LIFTOFF_RUN_CONSOLE`).
    pub console: bool,
    /// The queue item that started a run (`LIFTOFF_RUN_LAUNCH_ITEM`).
    pub launch_item: bool,
    /// Jobs with the runs that used each version (`Artifact.usedBy`, a
    /// Liftoff field: any Liftoff server has it).
    pub job_runs: bool,
}

impl Capabilities {
    pub fn of(features: &ServerFeatures) -> Self {
        let queue_admin = features.has(features::QUEUE_ADMIN);
        Self {
            queue_admin,
            agents: features.has(features::AGENTS),
            stop_polling: features.has(features::STOP_POLLING),
            console: features.has(features::RUN_CONSOLE),
            launch_item: features.has(features::RUN_LAUNCH_ITEM),
            job_runs: queue_admin || features.has(features::AGENTS),
        }
    }
}

/// A message's text cut at its backticks: `(is_code, text)` pieces, so a
/// view can show `` `liftoff server` `` as code. An unpaired backtick stays text.
pub fn code_spans(text: &str) -> Vec<(bool, &str)> {
    let (paired, rest) = if text.matches('`').count() % 2 == 1 {
        text.split_at(text.rfind('`').unwrap_or(text.len()))
    } else {
        (text, "")
    };
    let mut out: Vec<(bool, &str)> = paired
        .split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(|(i, part)| (i % 2 == 1, part))
        .collect();
    if !rest.is_empty() {
        out.push((false, rest));
    }
    out
}

/// An error as the web app says it: what happened and what to do.
pub fn explain(err: &Error) -> String {
    match err {
        Error::Unauthorized { url } => format!(
            "The server at {url} refused this API key. Check the key: `liftoff server` prints the admin's on its first start (also in DATA_DIR/admin-api-key, or admin-api-key.HASH for a --database-url); on W&B it is at wandb.ai/authorize."
        ),
        Error::Network { url, message } => format!(
            "Cannot reach {url}: is the server running, and is the address right? (The browser said: {message}.)"
        ),
        Error::Http {
            status,
            operation,
            message,
        } if *status >= 500 => format!(
            "{operation}: the server failed (HTTP {status}). Try again; if it keeps failing, its log says why. ({message})"
        ),
        Error::Decode { operation, message } => format!(
            "{operation}: the server's answer was not what a W&B-compatible server sends: {message}"
        ),
        Error::NotFound { what } => format!("Not found: {what} (or you may not see it)."),
        other => other.to_string(),
    }
}

/// `alice` -> `alice`; anything a shell would split or expand is quoted.
pub fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The commands that start an agent for a queue: Liftoff's and W&B's.
pub fn agent_commands(entity: &str, queue: &str) -> [String; 2] {
    let (q, e) = (shell_quote(queue), shell_quote(entity));
    [
        format!("liftoff agent -q {q} -e {e}"),
        format!("wandb launch-agent -q {q} -e {e}"),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn backticks_mark_code() {
        use super::code_spans;
        assert_eq!(
            code_spans("run `liftoff server` first"),
            vec![(false, "run "), (true, "liftoff server"), (false, " first")]
        );
        assert_eq!(code_spans("`a`"), vec![(true, "a")]);
        assert_eq!(code_spans("plain"), vec![(false, "plain")]);
        // An unpaired backtick stays text.
        assert_eq!(
            code_spans("`a` and ` b"),
            vec![(true, "a"), (false, " and "), (false, "` b")]
        );
    }

    use super::*;

    #[test]
    fn console_lines_show_a_short_time_and_say_stderr() {
        assert_eq!(
            console_line("2026-11-30T10:34:33.825027 epoch 3: loss 0.2"),
            "10:34:33 epoch 3: loss 0.2"
        );
        assert_eq!(
            console_line("ERROR 2026-11-30T10:34:33.825101 wandb: Currently logged in as: admin"),
            "10:34:33 stderr wandb: Currently logged in as: admin"
        );
        assert_eq!(
            console_line("[liftoff] started process 9"),
            "[liftoff] started process 9"
        );
        assert_eq!(console_line("ERROR no time here"), "ERROR no time here");
        // A progress bar shows its last frame; colours and cursor moves go.
        assert_eq!(
            console_line("2026-11-30T10:34:33.825027 10%|█   |\r50%|██  |\r100%|████|\r"),
            "10:34:33 100%|████|"
        );
        assert_eq!(
            console_line("\u{1b}[32mINFO\u{1b}[0m ready \u{1b}[2K\u{1b}]0;title\u{7}done"),
            "INFO ready done"
        );
        assert_eq!(
            terminal_text("\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\"),
            "link"
        );
        assert_eq!(terminal_text("\r"), "");
        // A frame of escapes only leaves the one before; a charset switch goes whole.
        assert_eq!(terminal_text("50% done\r\u{1b}[0m"), "50% done");
        assert_eq!(terminal_text("\u{1b}[32mok\u{1b}(B\u{1b}[m"), "ok");
        assert_eq!(console_line("2026-11-30T10:34:33.8"), "10:34:33");
    }

    #[test]
    fn capabilities_follow_the_features() {
        let none = Capabilities::of(&ServerFeatures::default());
        assert_eq!(none, Capabilities::default());
        let all = Capabilities::of(&ServerFeatures {
            enabled: vec![
                features::QUEUE_ADMIN.into(),
                features::AGENTS.into(),
                features::RUN_CONSOLE.into(),
            ],
        });
        assert!(all.queue_admin && all.agents && all.console && all.job_runs);
        assert!(!all.stop_polling && !all.launch_item);
        let launch_item = Capabilities::of(&ServerFeatures {
            enabled: vec![features::RUN_LAUNCH_ITEM.into()],
        });
        assert!(launch_item.launch_item && !launch_item.console);
    }

    #[test]
    fn errors_say_what_to_do() {
        let e = Error::Network {
            url: "http://127.0.0.1:9/graphql".into(),
            message: "Failed to fetch".into(),
        };
        assert_eq!(
            explain(&e),
            "Cannot reach http://127.0.0.1:9/graphql: is the server running, and is the address right? (The browser said: Failed to fetch.)"
        );
        let e = Error::Unauthorized {
            url: "http://x/graphql".into(),
        };
        assert!(explain(&e).starts_with("The server at http://x/graphql refused this API key."));
        let e = Error::NotGraphql {
            url: "http://x/wrong/graphql".into(),
            status: 405,
            body: "".into(),
        };
        assert_eq!(
            explain(&e),
            "http://x/wrong/graphql answered HTTP 405, not GraphQL: is the server's address right? Give a W&B or Liftoff server's base URL with no path (such as http://localhost:8080 or https://api.wandb.ai)"
        );
    }

    #[test]
    fn agent_commands_are_copyable() {
        assert_eq!(
            agent_commands("alice", "gpu"),
            [
                "liftoff agent -q gpu -e alice".to_owned(),
                "wandb launch-agent -q gpu -e alice".to_owned()
            ]
        );
        assert_eq!(
            agent_commands("a", "my queue")[0],
            "liftoff agent -q 'my queue' -e a"
        );
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
