//! `consume --template FILE --function NAME`: the deployment file's settings applied to the
//! flags the user did not give, and the `--dry-run` listing of where each value came from.

use std::time::Duration;

use crate::cli::values::OrInfinite;
use crate::cli::{ConsumeArgs, StartingPositionArg};
use crate::deploy::ResolvedMapping;

/// Fills the flags not given on the command line (`explicit(id)` says which were) from the
/// file. Returns notes about settings that are read but not applied.
pub(super) fn apply(
    args: &mut ConsumeArgs,
    m: &ResolvedMapping,
    explicit: &dyn Fn(&str) -> bool,
) -> Result<Vec<String>, String> {
    let mut notes = Vec::new();
    let unset = |id: &str| !explicit(id);
    if let Some(s) = m.stream.as_ref().filter(|_| unset("stream")) {
        args.stream = Some(s.value.clone());
    }
    if let Some(f) = m.function_name.as_ref().filter(|_| unset("function_name")) {
        args.function_name = Some(f.value.clone());
    }
    if let Some(b) = m.batch_size.as_ref().filter(|_| unset("batch_size")) {
        args.batch_size =
            usize::try_from(b.value).map_err(|_| format!("{}: BatchSize too large", b.source))?;
    }
    if let Some(w) = m
        .maximum_batching_window_secs
        .as_ref()
        .filter(|_| unset("maximum_batching_window"))
    {
        args.maximum_batching_window = Duration::from_secs(w.value);
    }
    if let Some(p) = m
        .starting_position
        .as_ref()
        .filter(|_| unset("starting_position"))
    {
        args.starting_position = match p.value.as_str() {
            "TRIM_HORIZON" => StartingPositionArg::TrimHorizon,
            "LATEST" => StartingPositionArg::Latest,
            "AT_TIMESTAMP" => StartingPositionArg::AtTimestamp,
            other => {
                return Err(format!(
                    "{}: StartingPosition {other} is not TRIM_HORIZON, LATEST or AT_TIMESTAMP",
                    p.source
                ))
            }
        };
    }
    if let Some(t) = m
        .starting_position_timestamp
        .as_ref()
        .filter(|_| unset("starting_position_timestamp"))
    {
        if args.starting_position == StartingPositionArg::AtTimestamp {
            #[allow(clippy::cast_possible_truncation)]
            let ms = (t.value * 1000.0).round() as i64;
            args.starting_position_timestamp = Some(ms);
        }
    }
    if let Some(r) = m
        .maximum_retry_attempts
        .as_ref()
        .filter(|_| unset("maximum_retry_attempts"))
    {
        args.maximum_retry_attempts = match r.value {
            -1 => OrInfinite(None),
            n @ 0..=10_000 => OrInfinite(u32::try_from(n).ok()),
            n => {
                return Err(format!(
                    "{}: MaximumRetryAttempts {n} is not -1 or 0-10000",
                    r.source
                ))
            }
        };
    }
    if let Some(a) = m
        .maximum_record_age_secs
        .as_ref()
        .filter(|_| unset("maximum_record_age"))
    {
        args.maximum_record_age = match a.value {
            -1 => OrInfinite(None),
            n => OrInfinite(Some(Duration::from_secs(u64::try_from(n).map_err(|_| {
                format!(
                    "{}: MaximumRecordAgeInSeconds {n} is not -1 or 60-604800",
                    a.source
                )
            })?))),
        };
    }
    if let Some(b) = m
        .bisect_batch_on_function_error
        .as_ref()
        .filter(|_| unset("bisect_batch_on_function_error"))
    {
        args.bisect_batch_on_function_error = b.value;
    }
    if let Some(r) = m
        .report_batch_item_failures
        .as_ref()
        .filter(|_| unset("report_batch_item_failures"))
    {
        args.report_batch_item_failures = r.value;
    }
    if let Some(t) = m.timeout_secs.as_ref().filter(|_| unset("timeout")) {
        args.timeout = Duration::from_secs(t.value);
    }
    if let Some(mem) = m.memory_size.as_ref().filter(|_| unset("memory_size")) {
        args.memory_size =
            u32::try_from(mem.value).map_err(|_| format!("{}: MemorySize too large", mem.source))?;
    }
    if let Some(f) = m.filter_patterns.as_ref() {
        if unset("filter") && unset("filter_file") {
            args.filter = f.value.clone();
        }
    }
    if let Some(p) = m
        .parallelization_factor
        .as_ref()
        .filter(|_| unset("parallelization_factor"))
    {
        args.parallelization_factor = crate::cli::values::parallelization_factor(&p.value.to_string())
            .map_err(|e| format!("{}: ParallelizationFactor {e}", p.source))?;
    }
    if let Some(t) = m
        .tumbling_window_secs
        .as_ref()
        .filter(|_| unset("tumbling_window"))
    {
        // 0 is Lambda's "off".
        args.tumbling_window = match t.value {
            0 => None,
            n @ 1..=900 => Some(Duration::from_secs(n)),
            n => {
                return Err(format!(
                    "{}: TumblingWindowInSeconds {n} is not 0 (off) or 1-900",
                    t.source
                ))
            }
        };
    }
    if let Some(c) = m.consumer.as_ref().filter(|_| unset("efo")) {
        // Enhanced fan-out through the consumer of that name (registered if it does not exist).
        args.efo = Some(Some(c.value.clone()));
    }
    if let (Some(h), true) = (&m.handler, args.exec.is_some()) {
        notes.push(format!(
            "Handler {} ({}) is for reference only: --exec runs the function",
            h.value, h.source
        ));
    }
    Ok(notes)
}

/// The `--dry-run` listing: every setting with its value and where it came from (the file,
/// or the flag that overrode it), then the warnings.
pub(super) fn describe(
    m: &ResolvedMapping,
    args: &ConsumeArgs,
    explicit: &dyn Fn(&str) -> bool,
    notes: &[String],
) -> String {
    // Which flag overrides which setting of the file.
    let flag_of = |setting: &str| -> Option<(&'static str, &'static str)> {
        Some(match setting {
            "FunctionName" => ("function_name", "--function-name"),
            "Timeout" => ("timeout", "--timeout"),
            "MemorySize" => ("memory_size", "--memory-size"),
            "Stream" => ("stream", "--stream"),
            "BatchSize" => ("batch_size", "--batch-size"),
            "MaximumBatchingWindowInSeconds" => ("maximum_batching_window", "--maximum-batching-window"),
            "StartingPosition" => ("starting_position", "--starting-position"),
            "StartingPositionTimestamp" => ("starting_position_timestamp", "--starting-position-timestamp"),
            "ParallelizationFactor" => ("parallelization_factor", "--parallelization-factor"),
            "MaximumRetryAttempts" => ("maximum_retry_attempts", "--maximum-retry-attempts"),
            "MaximumRecordAgeInSeconds" => ("maximum_record_age", "--maximum-record-age"),
            "BisectBatchOnFunctionError" => (
                "bisect_batch_on_function_error",
                "--bisect-batch-on-function-error",
            ),
            "FunctionResponseTypes" => ("report_batch_item_failures", "--report-batch-item-failures"),
            "FilterCriteria" => ("filter", "--filter"),
            "TumblingWindowInSeconds" => ("tumbling_window", "--tumbling-window"),
            "Consumer" => ("efo", "--efo"),
            _ => return None,
        })
    };
    let flag_value = |id: &str| -> String {
        match id {
            "function_name" => args.function_name.clone().unwrap_or_default(),
            "timeout" => humantime::format_duration(args.timeout).to_string(),
            "memory_size" => args.memory_size.to_string(),
            "stream" => args.stream.clone().unwrap_or_default(),
            "batch_size" => args.batch_size.to_string(),
            "efo" => match &args.efo {
                Some(Some(name)) => name.clone(),
                Some(None) => "(named after --app)".into(),
                None => "off".into(),
            },
            "parallelization_factor" => args.parallelization_factor.to_string(),
            "maximum_batching_window" => humantime::format_duration(args.maximum_batching_window).to_string(),
            "starting_position" => format!("{:?}", args.starting_position),
            "maximum_retry_attempts" => args
                .maximum_retry_attempts
                .0
                .map_or("-1".into(), |n| n.to_string()),
            "maximum_record_age" => args
                .maximum_record_age
                .0
                .map_or("-1".into(), |d| humantime::format_duration(d).to_string()),
            "bisect_batch_on_function_error" => args.bisect_batch_on_function_error.to_string(),
            "report_batch_item_failures" => args.report_batch_item_failures.to_string(),
            "filter" => serde_json::to_string(&args.filter).unwrap_or_default(),
            "tumbling_window" => args
                .tumbling_window
                .map_or("0".into(), |d| d.as_secs().to_string()),
            _ => String::new(),
        }
    };
    let format = m.format.map(|f| f.to_string()).unwrap_or_default();
    let mut out = format!("resolved event source mapping ({format}):\n");
    let rows: Vec<(String, String, String)> = m
        .lines()
        .into_iter()
        .map(|(name, value, source)| match flag_of(&name) {
            Some((id, flag)) if explicit(id) => {
                (name, flag_value(id), format!("{flag} (overrides {source})"))
            }
            _ => (name, value, source),
        })
        .collect();
    let name_w = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
    let value_w = rows
        .iter()
        .map(|r| r.1.chars().count().min(48))
        .max()
        .unwrap_or(0);
    for (name, value, source) in rows {
        out.push_str(&format!("  {name:<name_w$}  {value:<value_w$}  from {source}\n"));
    }
    for w in m.warnings.iter().chain(notes) {
        out.push_str(&format!("warning: {w}\n"));
    }
    out
}
