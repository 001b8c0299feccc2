//! Answers of a terminology server kept on disk between runs, keyed by (operation,
//! system, version, code, value set), one file per server as JSON lines. Only
//! verdicts are kept, never "unreachable"; a line that does not read, or is older
//! than the cache's lifetime, is ignored.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::client::Answer;

/// What a question is about; `version` is the code system version (empty: any).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Key {
    pub op: String,
    pub system: String,
    pub version: String,
    pub code: String,
    pub value_set: String,
}

#[derive(Serialize, Deserialize)]
struct Line {
    #[serde(flatten)]
    key: Key,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    result: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    displays: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    codes: Option<Vec<(String, String)>>,
    /// `false`: the server gives no complete expansion this small.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    expandable: Option<bool>,
    at: u64,
}

/// A file this large is not read: it is started afresh.
const MAX_FILE: u64 = 256 << 20;

pub struct AnswerCache {
    file: Option<PathBuf>,
    answers: Mutex<HashMap<Key, Answer>>,
    /// Why the cache could not be written, once.
    pub problem: Mutex<Option<String>>,
}

impl AnswerCache {
    /// The cache of the server at `base` in `dir` (`None`: in memory only).
    pub fn open(dir: Option<&PathBuf>, base: &str, ttl: Duration) -> AnswerCache {
        let file = dir.map(|d| {
            let digest = sha2::Sha256::digest(base.as_bytes());
            d.join(format!("{}.ndjson", &crate::evidence::hex(&digest)[..16]))
        });
        let mut answers = HashMap::new();
        let now = now_secs();
        if let Some(text) = file.as_ref().and_then(read_small) {
            for line in text.lines() {
                let Ok(line) = serde_json::from_str::<Line>(line) else {
                    continue;
                };
                if now.saturating_sub(line.at) > ttl.as_secs() {
                    continue;
                }
                let answer = match (line.result, line.displays, line.codes, line.expandable) {
                    (Some(result), ..) => Answer::Verdict {
                        result,
                        message: line.message,
                    },
                    (_, Some(d), ..) => Answer::Displays(d),
                    (_, _, Some(codes), _) => Answer::Expansion {
                        codes,
                        complete: true,
                    },
                    (_, _, _, Some(false)) => Answer::Expansion {
                        codes: Vec::new(),
                        complete: false,
                    },
                    _ => continue,
                };
                answers.insert(line.key, answer);
            }
        }
        AnswerCache {
            file,
            answers: Mutex::new(answers),
            problem: Mutex::new(None),
        }
    }

    pub fn get(&self, key: &Key) -> Option<Answer> {
        self.answers.lock().ok()?.get(key).cloned()
    }

    /// Keeps a verdict, displays, a complete expansion, or that there is none.
    pub fn put(&self, key: Key, answer: &Answer) {
        let mut line = Line {
            key: key.clone(),
            result: None,
            message: None,
            displays: None,
            codes: None,
            expandable: None,
            at: now_secs(),
        };
        match answer {
            Answer::Verdict { result, message } => {
                line.result = Some(*result);
                line.message = message.clone();
            }
            Answer::Displays(d) => line.displays = Some(d.clone()),
            Answer::Expansion {
                codes,
                complete: true,
            } => line.codes = Some(codes.clone()),
            Answer::Expansion { .. } => line.expandable = Some(false),
        }
        if let Ok(mut answers) = self.answers.lock() {
            answers.insert(key, answer.clone());
        }
        let Some(file) = &self.file else { return };
        let Ok(mut text) = serde_json::to_string(&line) else {
            return;
        };
        text.push('\n');
        // One write per line, appended: concurrent runs interleave whole lines.
        let written = file
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| {
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(file)?
                    .write_all(text.as_bytes())
            });
        if let Err(e) = written {
            if let Ok(mut p) = self.problem.lock() {
                p.get_or_insert_with(|| {
                    format!(
                        "terminology answers cannot be kept in {}: {e}",
                        file.display()
                    )
                });
            }
        }
    }
}

use sha2::Digest as _;

fn read_small(file: &PathBuf) -> Option<String> {
    let meta = std::fs::metadata(file).ok()?;
    if !meta.is_file() || meta.len() > MAX_FILE {
        return None;
    }
    let bytes = std::fs::read(file).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
