//! Stream and account settings: UpdateStreamMode, Enable/DisableEnhancedMonitoring,
//! Start/StopStreamEncryption, UpdateMaxRecordSize, UpdateStreamWarmThroughput and
//! Describe/UpdateAccountSettings.

use serde_json::{json, Value};

use super::call::Call;
use super::model::{
    AccountSettingsInput, EncryptionInput, MaxRecordSizeInput, MonitoringInput, UpdateStreamModeInput,
    WarmThroughputInput,
};
use super::state::{Event, Mode, Stream};
use super::validate::Checks;
use super::Ctx;
use crate::engine::codec::Reply;
use crate::engine::error::{constraint, ApiError};

/// The shard-level metrics, in the order AWS lists them (`ALL` stands for every one).
pub(crate) const SHARD_LEVEL_METRICS: [&str; 7] = [
    "IncomingBytes",
    "IncomingRecords",
    "OutgoingBytes",
    "OutgoingRecords",
    "WriteProvisionedThroughputExceeded",
    "ReadProvisionedThroughputExceeded",
    "IteratorAgeMilliseconds",
];

/// A year, the shortest minimum-throughput billing commitment.
const COMMITMENT_MS: u64 = 365 * 24 * 3_600_000;

/// UpdateStreamMode.
pub(crate) fn update_stream_mode(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: UpdateStreamModeInput = req.parse()?;
    let mode_name = input
        .stream_mode_details
        .as_ref()
        .and_then(|m| m.stream_mode.clone());
    let mut checks = Checks::default();
    checks.required(&input.stream_arn, "streamARN");
    checks.required(&input.stream_mode_details, "streamModeDetails");
    if input.stream_mode_details.is_some() {
        checks.required(&mode_name, "streamModeDetails.streamMode");
    }
    checks.one_of(
        mode_name.as_deref(),
        "streamModeDetails.streamMode",
        &["PROVISIONED", "ON_DEMAND"],
    );
    checks.range(
        input.warm_throughput_mibps,
        "warmThroughputMiBps",
        0,
        i64::from(i32::MAX),
    );
    checks.finish()?;
    let name = ctx.resolve_name(None, input.stream_arn.as_deref())?;
    let stream = ctx.active_stream(&name)?;
    let mode = if mode_name.as_deref() == Some("ON_DEMAND") {
        Mode::OnDemand
    } else {
        Mode::Provisioned
    };
    if stream.mode == mode {
        return Err(ApiError::invalid_argument(format!(
            "Stream {name} under account {} is already in {} mode.",
            ctx.cfg.account_id,
            mode.as_str()
        )));
    }
    if input.warm_throughput_mibps.is_some() && mode != Mode::OnDemand {
        return Err(ApiError::invalid_argument(
            "WarmThroughputMiBps can only be specified for a stream in ON_DEMAND mode.",
        ));
    }
    let at_ms = ctx.now;
    let delay_ms = ctx.cfg.update_stream_delay.as_millis() as u64;
    ctx.commit(Event::StreamMode {
        name: name.clone(),
        mode,
        at_ms,
        delay_ms,
    })?;
    if let Some(mibps) = input.warm_throughput_mibps {
        ctx.commit(Event::WarmThroughput {
            name,
            mibps: mibps as u32,
        })?;
    }
    req.reply(&json!({}))
}

/// Enable/DisableEnhancedMonitoring.
pub(crate) fn monitoring(ctx: &mut Ctx<'_>, req: &Call, enable: bool) -> Result<Reply, ApiError> {
    let input: MonitoringInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.shard_level_metrics, "shardLevelMetrics");
    let asked = input.shard_level_metrics.clone().unwrap_or_default();
    if input.shard_level_metrics.is_some() && (asked.is_empty() || asked.len() > 7) {
        checks.push(constraint(
            &format!("[{}]", asked.join(", ")),
            "shardLevelMetrics",
            "have length less than or equal to 7 and greater than or equal to 1",
        ));
    }
    for (i, m) in asked.iter().enumerate() {
        if m != "ALL" && !SHARD_LEVEL_METRICS.contains(&m.as_str()) {
            checks.push(constraint(
                m,
                &format!("shardLevelMetrics.{}.member", i + 1),
                "satisfy enum value set: [IncomingBytes, IncomingRecords, OutgoingBytes, OutgoingRecords, WriteProvisionedThroughputExceeded, ReadProvisionedThroughputExceeded, IteratorAgeMilliseconds, ALL]",
            ));
        }
    }
    checks.finish()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let stream = ctx.active_stream(&name)?;
    let current = stream.settings.shard_level_metrics.clone();
    let all = asked.iter().any(|m| m == "ALL");
    let named = |m: &str| all || asked.iter().any(|a| a == m);
    let desired: Vec<String> = SHARD_LEVEL_METRICS
        .iter()
        .filter(|m| {
            let on = current.iter().any(|c| c == *m);
            if enable {
                on || named(m)
            } else {
                on && !named(m)
            }
        })
        .map(|m| (*m).to_string())
        .collect();
    ctx.commit(Event::Monitoring {
        name: name.clone(),
        metrics: desired.clone(),
    })?;
    req.reply(&json!({
        "StreamName": name,
        "StreamARN": ctx.stream_arn(&name),
        "CurrentShardLevelMetrics": current,
        "DesiredShardLevelMetrics": desired,
    }))
}

/// Start/StopStreamEncryption.
pub(crate) fn encryption(ctx: &mut Ctx<'_>, req: &Call, start: bool) -> Result<Reply, ApiError> {
    let input: EncryptionInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.encryption_type, "encryptionType");
    checks.required(&input.key_id, "keyId");
    checks.one_of(
        input.encryption_type.as_deref(),
        "encryptionType",
        &["NONE", "KMS"],
    );
    checks.length(input.key_id.as_deref(), "keyId", 1, 2048);
    checks.finish()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    ctx.active_stream(&name)?;
    if input.encryption_type.as_deref() != Some("KMS") {
        return Err(ApiError::invalid_argument(format!(
            "Invalid EncryptionType {}: the only encryption type is KMS.",
            input.encryption_type.unwrap_or_default()
        )));
    }
    let key = input.key_id.unwrap_or_default();
    let at_ms = ctx.now;
    let delay_ms = ctx.cfg.update_stream_delay.as_millis() as u64;
    ctx.commit(Event::Encryption {
        name,
        key: start.then_some(key),
        at_ms,
        delay_ms,
    })?;
    req.reply(&json!({}))
}

/// UpdateMaxRecordSize.
pub(crate) fn update_max_record_size(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: MaxRecordSizeInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.stream_arn, "streamARN");
    checks.required(&input.max_record_size_in_kib, "maxRecordSizeInKiB");
    checks.range(input.max_record_size_in_kib, "maxRecordSizeInKiB", 1024, 10_240);
    checks.finish()?;
    let name = ctx.resolve_name(None, input.stream_arn.as_deref())?;
    ctx.active_stream(&name)?;
    let at_ms = ctx.now;
    let delay_ms = ctx.cfg.update_stream_delay.as_millis() as u64;
    ctx.commit(Event::MaxRecordSize {
        name,
        kib: input.max_record_size_in_kib.unwrap_or(1024) as u32,
        at_ms,
        delay_ms,
    })?;
    req.reply(&json!({}))
}

/// `WarmThroughput` as DescribeStreamSummary and UpdateStreamWarmThroughput show it.
pub(crate) fn warm_throughput(stream: &Stream) -> Option<Value> {
    stream
        .settings
        .warm_throughput_mibps
        .map(|mibps| json!({ "TargetMiBps": mibps, "CurrentMiBps": mibps }))
}

/// UpdateStreamWarmThroughput.
pub(crate) fn update_warm_throughput(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: WarmThroughputInput = req.parse()?;
    let mut checks = Checks::default();
    checks.required(&input.warm_throughput_mibps, "warmThroughputMiBps");
    checks.range(
        input.warm_throughput_mibps,
        "warmThroughputMiBps",
        0,
        i64::from(i32::MAX),
    );
    checks.finish()?;
    let name = ctx.resolve_name(input.stream_name.as_deref(), input.stream_arn.as_deref())?;
    let stream = ctx.active_stream(&name)?;
    if stream.mode != Mode::OnDemand {
        return Err(ApiError::invalid_argument(format!(
            "Warm throughput can only be set on a stream in ON_DEMAND mode; stream {name} is PROVISIONED."
        )));
    }
    let mibps = input.warm_throughput_mibps.unwrap_or_default() as u32;
    ctx.commit(Event::WarmThroughput {
        name: name.clone(),
        mibps,
    })?;
    req.reply(&json!({
        "StreamARN": ctx.stream_arn(&name),
        "StreamName": name,
        "WarmThroughput": { "TargetMiBps": mibps, "CurrentMiBps": mibps },
    }))
}

fn commitment(ctx: &Ctx<'_>) -> Value {
    match ctx.state.commitment {
        None => json!({ "Status": "DISABLED" }),
        Some((started, None)) => json!({
            "Status": "ENABLED",
            "StartedAt": started as f64 / 1000.0,
            "EarliestAllowedEndAt": (started + COMMITMENT_MS) as f64 / 1000.0,
        }),
        Some((started, Some(ended))) => json!({
            "Status": if ctx.now < ended { "ENABLED_UNTIL_EARLIEST_ALLOWED_END" } else { "DISABLED" },
            "StartedAt": started as f64 / 1000.0,
            "EndedAt": ended as f64 / 1000.0,
            "EarliestAllowedEndAt": (started + COMMITMENT_MS) as f64 / 1000.0,
        }),
    }
}

/// DescribeAccountSettings.
pub(crate) fn describe_account_settings(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let _: Value = req.parse()?;
    req.reply(&json!({ "MinimumThroughputBillingCommitment": commitment(ctx) }))
}

/// UpdateAccountSettings.
pub(crate) fn update_account_settings(ctx: &mut Ctx<'_>, req: &Call) -> Result<Reply, ApiError> {
    let input: AccountSettingsInput = req.parse()?;
    let status = input
        .minimum_throughput_billing_commitment
        .as_ref()
        .and_then(|c| c.status.clone());
    let mut checks = Checks::default();
    checks.required(
        &input.minimum_throughput_billing_commitment,
        "minimumThroughputBillingCommitment",
    );
    if input.minimum_throughput_billing_commitment.is_some() {
        checks.required(&status, "minimumThroughputBillingCommitment.status");
    }
    checks.one_of(
        status.as_deref(),
        "minimumThroughputBillingCommitment.status",
        &["ENABLED", "DISABLED"],
    );
    checks.finish()?;
    let now = ctx.now;
    ctx.state.commitment = match (status.as_deref(), ctx.state.commitment) {
        (Some("ENABLED"), Some((started, None))) => Some((started, None)),
        (Some("ENABLED"), _) => Some((now, None)),
        (_, Some((started, None))) => Some((started, Some(now.max(started + COMMITMENT_MS)))),
        (_, other) => other,
    };
    req.reply(&json!({ "MinimumThroughputBillingCommitment": commitment(ctx) }))
}
