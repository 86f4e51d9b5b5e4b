//! Arguments of `kinlocal serve`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

/// `kinlocal serve`: the embedded engine in the foreground.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to bind. Loopback unless you ask otherwise: any other address also needs
    /// --allow-remote, because the engine checks no signatures.
    #[arg(long, default_value = "127.0.0.1", env = "KINLOCAL_HOST")]
    pub host: String,
    /// Allow a --host that is not loopback: anyone who can reach the port can read and write
    /// every stream and table, since the engine checks no signatures.
    #[arg(long, env = "KINLOCAL_ALLOW_REMOTE")]
    pub allow_remote: bool,
    /// Port to listen on; 0 takes a free port (printed at start).
    #[arg(long, short = 'p', default_value_t = 4566, env = "KINLOCAL_PORT")]
    pub port: u16,
    /// Region written into ARNs.
    #[arg(long, default_value = "us-east-1", env = "KINLOCAL_REGION")]
    pub region: String,
    /// Account id written into ARNs (12 digits).
    #[arg(long, default_value = "000000000000", value_parser = parse_account_id)]
    pub account_id: String,
    /// Keep streams, records and tables in DIR so they survive restarts (and kill -9).
    #[arg(long, value_name = "DIR", env = "KINLOCAL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// When journal writes reach the disk: `never` (the kernel decides, ~30 s on Linux; a killed
    /// engine loses nothing, a power cut the last half-minute), `batch` (within 1 s; a power cut
    /// loses at most about the last second) or `always` (before each answer; nothing
    /// acknowledged is lost, one disk flush per write).
    #[arg(long, default_value = "batch", value_parser = ["never", "batch", "always"], env = "KINLOCAL_FSYNC")]
    pub fsync: String,
    /// Salvage damaged journals in --data-dir: keep every entry that still verifies, report
    /// what is lost, keep the damaged file beside the repaired one, then serve.
    #[arg(long, requires = "data_dir")]
    pub repair: bool,
    /// Enforce per-shard throughput limits (writes 1 MiB/s and 1,000 records/s; reads 5 calls/s
    /// and 2 MiB/s) with ProvisionedThroughputExceededException, to test retry paths.
    #[arg(long)]
    pub enforce_limits: bool,
    /// How long a new stream stays CREATING (e.g. 500ms).
    #[arg(long, default_value = "0s", value_parser = super::values::duration, value_name = "DURATION")]
    pub create_stream_delay: Duration,
    /// How long a deleted stream stays DELETING.
    #[arg(long, default_value = "0s", value_parser = super::values::duration, value_name = "DURATION")]
    pub delete_stream_delay: Duration,
    /// How long a stream stays UPDATING after a reshard or retention change.
    #[arg(long, default_value = "0s", value_parser = super::values::duration, value_name = "DURATION")]
    pub update_stream_delay: Duration,
    /// How long a new DynamoDB table stays CREATING.
    #[arg(long, default_value = "0s", value_parser = super::values::duration, value_name = "DURATION")]
    pub create_table_delay: Duration,
    /// Trim records older than this whatever a stream's retention period says (AWS's minimum
    /// is 24 hours): keeps the memory and the journal of a long-running engine bounded by
    /// recent traffic. Consumers further behind than this lose the records trimmed.
    #[arg(long, value_parser = super::values::positive_duration, value_name = "DURATION")]
    pub max_retention: Option<Duration>,
    /// How long a shard iterator stays valid (AWS: 5 minutes).
    #[arg(long, default_value = "5m", value_parser = super::values::duration, value_name = "DURATION")]
    pub iterator_ttl: Duration,
    /// A request's headers, and then its body, must each arrive within this; a client that
    /// never finishes gets 408 and its connection is closed.
    #[arg(long, default_value = "60s", value_parser = super::values::positive_duration, value_name = "DURATION")]
    pub request_timeout: Duration,
    /// A connection that moves no byte either way for this long is closed.
    #[arg(long, default_value = "120s", value_parser = super::values::positive_duration, value_name = "DURATION")]
    pub idle_timeout: Duration,
    /// Test only: how long a SubscribeToShard subscription lasts before the client must renew
    /// it (AWS: 5 minutes).
    #[arg(long, hide = true, default_value = "5m", value_parser = super::values::positive_duration, value_name = "DURATION")]
    pub subscription_lifetime: Duration,
    /// Test only: answer every GetRecords at once, ignoring kinlocal's long-poll hint, as the
    /// endpoints of `up --docker`, kinesalite or kinesis-mock do.
    #[arg(long, hide = true)]
    pub no_long_poll: bool,
    /// Print the listening address as one JSON line.
    #[arg(long)]
    pub json: bool,
}

fn parse_account_id(s: &str) -> Result<String, String> {
    if s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(s.to_string())
    } else {
        Err(format!("'{s}' is not a 12-digit AWS account id"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_id_must_be_twelve_digits() {
        assert!(parse_account_id("000000000000").is_ok());
        assert!(parse_account_id("12345").is_err());
        assert!(parse_account_id("12345678901a").is_err());
    }
}
