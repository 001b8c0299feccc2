//! `assure report merge`: shard reports (`--shard K/N`) back into the report of the
//! whole run. Shards must come from the same suites, suite versions, feature files
//! and tool build, and together be every shard 1..N exactly once.

use std::collections::{BTreeMap, HashMap};

use super::model::{Report, WaiverResult, WaiverState};

/// Combines shard reports; `Err` says why they cannot be combined.
pub fn merge(mut shards: Vec<Report>) -> Result<Report, String> {
    let Some(first) = shards.first() else {
        return Err("no shard reports given".into());
    };
    let count = shard_of(first)?.1;
    for r in &shards {
        let (_, n) = shard_of(r)?;
        if n != count {
            return Err(format!(
                "run {} is shard {} but run {} is one of {count}: shards of different splits",
                r.run.id,
                r.run.shard.as_deref().unwrap_or_default(),
                first.run.id
            ));
        }
        if r.run.tool != first.run.tool {
            return Err(format!(
                "run {} was made by assure {} ({}) and run {} by assure {} ({}): merge shards of one build",
                r.run.id,
                r.run.tool.version,
                r.run.tool.commit.as_deref().unwrap_or("commit unknown"),
                first.run.id,
                first.run.tool.version,
                first.run.tool.commit.as_deref().unwrap_or("commit unknown"),
            ));
        }
        if fingerprint(r) != fingerprint(first) {
            return Err(format!(
                "run {} and run {} ran different suites, suite versions, feature files, tags, gates or waivers",
                r.run.id, first.run.id
            ));
        }
        if r.run.target.base_url != first.run.target.base_url && r.run.target.counterpart.is_none()
        {
            return Err(format!(
                "run {} tested {} but run {} tested {}",
                r.run.id, r.run.target.base_url, first.run.id, first.run.target.base_url
            ));
        }
    }
    shards.sort_by_key(|r| shard_of(r).map(|s| s.0).unwrap_or(0));
    let got: Vec<u32> = shards
        .iter()
        .filter_map(|r| shard_of(r).ok())
        .map(|s| s.0)
        .collect();
    let want: Vec<u32> = (1..=count).collect();
    if got != want {
        return Err(format!(
            "expected shards 1 to {count} once each, got {}",
            got.iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }

    let mut merged = shards[0].clone();
    merged.run.shard = None;
    merged.run.command_line = super::rerun::without_shard(&merged.run.command_line);
    merged.run.rerun = super::rerun::command(&merged.run.command_line);
    merged.run.id = format!("{}-merged", merged.run.id);
    merged.run.interrupted = shards.iter().any(|r| r.run.interrupted);
    merged.run.started = shards
        .iter()
        .map(|r| r.run.started.clone())
        .min()
        .unwrap_or_default();
    merged.run.finished = shards
        .iter()
        .map(|r| r.run.finished.clone())
        .max()
        .unwrap_or_default();
    merged.run.duration_ms = shards.iter().map(|r| r.run.duration_ms).fold(0.0, f64::max);
    for (si, suite) in merged.suites.iter_mut().enumerate() {
        for (fi, feature) in suite.features.iter_mut().enumerate() {
            feature.scenarios = shards
                .iter()
                .flat_map(|r| r.suites[si].features[fi].scenarios.iter().cloned())
                .collect();
            feature.scenarios.sort_by_key(|s| s.line);
        }
        let features = &suite.features;
        for req in &mut suite.requirements {
            req.scenarios = features
                .iter()
                .flat_map(|f| f.scenarios.iter())
                .filter(|s| s.requirements.contains(&req.id))
                .map(|s| s.id.clone())
                .collect();
        }
    }
    // Every shard read /metadata; the first shard's reading stands for the run.
    let others_metadata: Vec<&str> = shards[1..]
        .iter()
        .filter_map(|r| r.run.target.metadata_exchange.as_deref())
        .collect();
    let mut exchanges = Vec::new();
    for (n, r) in shards.iter().enumerate() {
        for ex in &r.exchanges {
            if n > 0 && others_metadata.contains(&ex.id.as_str()) {
                continue;
            }
            let mut ex = ex.clone();
            // Shards number their exchanges alike: make ids unique before renumbering.
            ex.id = format!("s{n}-{}", ex.id);
            exchanges.push(ex);
        }
    }
    merged.exchanges = exchanges;
    // Each shard checked the test data; the first shard's checks stand for the run.
    for check in &mut merged.setup {
        for id in &mut check.exchanges {
            *id = format!("s0-{id}");
        }
    }
    merged.created = shards
        .iter()
        .enumerate()
        .flat_map(|(n, r)| {
            r.created.iter().cloned().map(move |mut c| {
                c.exchange = format!("s{n}-{}", c.exchange);
                if let Some((head, rest)) = c.note.split_once('(') {
                    if let Some((id, tail)) = rest.split_once(')') {
                        c.note = format!("{head}(s{n}-{id}){tail}");
                    }
                }
                c
            })
        })
        .collect();
    for suite in &mut merged.suites {
        for feature in &mut suite.features {
            for sc in &mut feature.scenarios {
                let n = shards
                    .iter()
                    .position(|r| {
                        r.scenarios()
                            .any(|(s, _, x)| s.id == suite.id && x.id == sc.id)
                    })
                    .unwrap_or(0);
                for step in &mut sc.steps {
                    for id in &mut step.exchanges {
                        *id = format!("s{n}-{id}");
                    }
                    if let Some(id) = step
                        .failure
                        .as_mut()
                        .and_then(|f| f.evidence.as_mut())
                        .and_then(|e| e.exchange.as_mut())
                    {
                        *id = format!("s{n}-{id}");
                    }
                }
            }
        }
    }
    if let Some(id) = &mut merged.run.target.metadata_exchange {
        *id = format!("s0-{id}");
    }
    merged.errors = union(shards.iter().map(|r| &r.errors));
    merged.warnings = union(shards.iter().map(|r| &r.warnings));
    merged.waivers = merge_waivers(&shards);
    merged.baseline = merged.baseline.take().map(|mut b| {
        for r in &shards[1..] {
            if let Some(o) = &r.baseline {
                b.regressions.extend(o.regressions.iter().cloned());
                b.fixed.extend(o.fixed.iter().cloned());
            }
        }
        b.regressions.sort();
        b.fixed.sort();
        b
    });
    renumber_exchanges(&mut merged);
    merged.finalize();
    Ok(merged)
}

fn shard_of(r: &Report) -> Result<(u32, u32), String> {
    let text = r
        .run
        .shard
        .as_deref()
        .ok_or_else(|| format!("run {} is not a shard (it ran without --shard)", r.run.id))?;
    let s: crate::shard::Shard = text.parse()?;
    Ok((s.index, s.count))
}

/// What must be the same for shards to belong to one run.
fn fingerprint(r: &Report) -> Vec<String> {
    r.suites
        .iter()
        .flat_map(|s| {
            std::iter::once(format!("{} {} {}", s.id, s.version, s.manifest_sha256)).chain(
                s.features
                    .iter()
                    .map(|f| format!("{} {}", f.file, f.sha256)),
            )
        })
        .chain([
            r.schema_version.to_string(),
            super::provenance::gate(&r.run),
            r.run.tags.clone().unwrap_or_default(),
        ])
        // The same waivers: which failures count is part of what was run.
        .chain(
            r.waivers
                .iter()
                .map(|w| format!("{} {} {} {}", w.id, w.matches, w.expires, w.accepted_by)),
        )
        .collect()
}

fn union<'a>(lists: impl Iterator<Item = &'a Vec<String>>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in lists.flatten() {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

fn merge_waivers(shards: &[Report]) -> Vec<WaiverResult> {
    let mut by_id: BTreeMap<String, WaiverResult> = BTreeMap::new();
    let mut order = Vec::new();
    for w in shards.iter().flat_map(|r| r.waivers.iter()) {
        match by_id.get_mut(&w.id) {
            None => {
                order.push(w.id.clone());
                by_id.insert(w.id.clone(), w.clone());
            }
            Some(m) => {
                m.scenarios.extend(w.scenarios.iter().cloned());
                if w.state == WaiverState::Applied && m.state == WaiverState::Unused {
                    m.state = WaiverState::Applied;
                }
            }
        }
    }
    order
        .into_iter()
        .filter_map(|id| by_id.remove(&id))
        .map(|mut w| {
            w.scenarios.sort();
            w
        })
        .collect()
}

/// Gives exchanges ids `ex-1`, `ex-2`... in a canonical order: the `/metadata` reading
/// first, then in the order scenarios and steps refer to them, then any others. Two
/// reports of the same run thus number their evidence alike, however it was split.
pub fn renumber_exchanges(report: &mut Report) {
    let mut order: Vec<String> = Vec::new();
    let push = |id: &str, order: &mut Vec<String>| {
        if !order.iter().any(|o| o == id) {
            order.push(id.to_owned());
        }
    };
    if let Some(id) = &report.run.target.metadata_exchange {
        push(id, &mut order);
    }
    for (_, _, sc) in report.scenarios() {
        for step in &sc.steps {
            for id in &step.exchanges {
                push(id, &mut order);
            }
        }
    }
    for ex in &report.exchanges {
        push(&ex.id, &mut order);
    }
    let new_ids: HashMap<String, String> = order
        .iter()
        .enumerate()
        .map(|(i, old)| (old.clone(), format!("ex-{}", i + 1)))
        .collect();
    let rename = |id: &mut String| {
        if let Some(n) = new_ids.get(id.as_str()) {
            *id = n.clone();
        }
    };
    for ex in &mut report.exchanges {
        rename(&mut ex.id);
    }
    report.exchanges.sort_by_key(|e| {
        e.id.get(3..)
            .and_then(|n| n.parse::<u64>().ok())
            .unwrap_or(u64::MAX)
    });
    if let Some(id) = &mut report.run.target.metadata_exchange {
        rename(id);
    }
    for suite in &mut report.suites {
        for sc in suite
            .features
            .iter_mut()
            .flat_map(|f| f.scenarios.iter_mut())
        {
            for step in &mut sc.steps {
                step.exchanges.iter_mut().for_each(rename);
                if let Some(id) = step
                    .failure
                    .as_mut()
                    .and_then(|f| f.evidence.as_mut())
                    .and_then(|e| e.exchange.as_mut())
                {
                    rename(id);
                }
            }
        }
        for req in &mut suite.requirements {
            req.evidence.iter_mut().for_each(rename);
        }
    }
    for check in &mut report.setup {
        check.exchanges.iter_mut().for_each(rename);
    }
    for c in &mut report.created {
        rename(&mut c.exchange);
        // The note names the deleting exchange in parentheses.
        if let Some((head, rest)) = c.note.split_once('(') {
            if let Some((id, tail)) = rest.split_once(')') {
                if let Some(n) = new_ids.get(id) {
                    c.note = format!("{head}({n}){tail}");
                }
            }
        }
    }
}
