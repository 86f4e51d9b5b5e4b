//! The operations added to Kinesis since 2021, each with the real Rust SDK: stream mode,
//! enhanced monitoring, encryption, record size, warm throughput, resource tags and policies,
//! account settings; and CreateStream with only a name.

use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::{
    EncryptionType, MetricsName, MinimumThroughputBillingCommitmentInput,
    MinimumThroughputBillingCommitmentInputStatus, StreamMode, StreamModeDetails,
};
use aws_sdk_kinesis::Client;

use crate::support::{create_stream, error_code, TestEngine};

async fn summary(k: &Client, name: &str) -> aws_sdk_kinesis::types::StreamDescriptionSummary {
    k.describe_stream_summary()
        .stream_name(name)
        .send()
        .await
        .expect("summary")
        .stream_description_summary
        .expect("present")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_stream_with_only_a_name_is_on_demand_with_one_mib_records() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    k.create_stream()
        .stream_name("bare")
        .send()
        .await
        .expect("create");
    let s = summary(&k, "bare").await;
    assert_eq!(
        s.stream_mode_details().map(|m| m.stream_mode().clone()),
        Some(StreamMode::OnDemand)
    );
    assert_eq!(s.open_shard_count(), 4);
    assert_eq!(s.max_record_size_in_kib(), Some(1024));
    assert_eq!(s.encryption_type(), Some(&EncryptionType::None));
    assert_eq!(s.consumer_count(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn max_record_size_is_per_stream_and_updatable() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    k.create_stream()
        .stream_name("big")
        .shard_count(1)
        .max_record_size_in_kib(2048)
        .send()
        .await
        .expect("create");
    create_stream(&k, "small", 1).await;
    let two_mib = vec![b'x'; 2 * 1024 * 1024 - 1];
    let put = |name: &'static str, data: Vec<u8>| {
        let k = k.clone();
        async move {
            k.put_record()
                .stream_name(name)
                .partition_key("k")
                .data(Blob::new(data))
                .send()
                .await
        }
    };
    put("big", two_mib.clone())
        .await
        .expect("2 MiB record on a 2048 KiB stream");
    let err = put("small", two_mib.clone()).await.expect_err("1 MiB stream");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    let arn = summary(&k, "small").await.stream_arn().to_string();
    k.update_max_record_size()
        .stream_arn(&arn)
        .max_record_size_in_kib(10_240)
        .send()
        .await
        .expect("raise to 10 MiB");
    assert_eq!(summary(&k, "small").await.max_record_size_in_kib(), Some(10_240));
    put("small", vec![b'y'; 5 * 1024 * 1024])
        .await
        .expect("5 MiB record");
    let err = k
        .update_max_record_size()
        .stream_arn(&arn)
        .max_record_size_in_kib(512)
        .send()
        .await
        .expect_err("below 1024");
    assert_eq!(error_code(&err), "ValidationException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stream_mode_monitoring_and_warm_throughput() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "m", 2).await;
    let arn = summary(&k, "m").await.stream_arn().to_string();
    k.update_stream_mode()
        .stream_arn(&arn)
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()
                .expect("details"),
        )
        .send()
        .await
        .expect("to on-demand");
    let s = summary(&k, "m").await;
    assert_eq!(
        s.stream_mode_details().map(|m| m.stream_mode().clone()),
        Some(StreamMode::OnDemand)
    );
    let err = k
        .update_stream_mode()
        .stream_arn(&arn)
        .stream_mode_details(
            StreamModeDetails::builder()
                .stream_mode(StreamMode::OnDemand)
                .build()
                .expect("details"),
        )
        .send()
        .await
        .expect_err("already on-demand");
    assert_eq!(error_code(&err), "InvalidArgumentException");

    let warm = k
        .update_stream_warm_throughput()
        .stream_name("m")
        .warm_throughput_mibps(100)
        .send()
        .await
        .expect("warm throughput");
    assert_eq!(warm.warm_throughput().and_then(|w| w.target_mibps()), Some(100));
    assert_eq!(
        summary(&k, "m")
            .await
            .warm_throughput()
            .and_then(|w| w.target_mibps()),
        Some(100)
    );

    let on = k
        .enable_enhanced_monitoring()
        .stream_name("m")
        .shard_level_metrics(MetricsName::IncomingBytes)
        .shard_level_metrics(MetricsName::IteratorAgeMilliseconds)
        .send()
        .await
        .expect("enable");
    assert!(on.current_shard_level_metrics().is_empty());
    assert_eq!(
        on.desired_shard_level_metrics(),
        [MetricsName::IncomingBytes, MetricsName::IteratorAgeMilliseconds]
    );
    let off = k
        .disable_enhanced_monitoring()
        .stream_name("m")
        .shard_level_metrics(MetricsName::IncomingBytes)
        .send()
        .await
        .expect("disable");
    assert_eq!(
        off.desired_shard_level_metrics(),
        [MetricsName::IteratorAgeMilliseconds]
    );
    let s = summary(&k, "m").await;
    assert_eq!(
        s.enhanced_monitoring()[0].shard_level_metrics(),
        [MetricsName::IteratorAgeMilliseconds]
    );
    let all = k
        .enable_enhanced_monitoring()
        .stream_name("m")
        .shard_level_metrics(MetricsName::All)
        .send()
        .await
        .expect("all");
    assert_eq!(all.desired_shard_level_metrics().len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encryption_shows_on_the_stream_and_on_records_written_after() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "enc", 1).await;
    let plain = k
        .put_record()
        .stream_name("enc")
        .partition_key("k")
        .data(Blob::new("plain"))
        .send()
        .await
        .expect("put");
    assert_eq!(plain.encryption_type(), None);
    k.start_stream_encryption()
        .stream_name("enc")
        .encryption_type(EncryptionType::Kms)
        .key_id("alias/aws/kinesis")
        .send()
        .await
        .expect("start encryption");
    let s = summary(&k, "enc").await;
    assert_eq!(s.encryption_type(), Some(&EncryptionType::Kms));
    assert_eq!(s.key_id(), Some("alias/aws/kinesis"));
    let d = k
        .describe_stream()
        .stream_name("enc")
        .send()
        .await
        .expect("describe");
    assert_eq!(
        d.stream_description().and_then(|d| d.key_id()),
        Some("alias/aws/kinesis")
    );
    let sealed = k
        .put_record()
        .stream_name("enc")
        .partition_key("k")
        .data(Blob::new("sealed"))
        .send()
        .await
        .expect("put");
    assert_eq!(sealed.encryption_type(), Some(&EncryptionType::Kms));
    let records = crate::support::read_shard(&k, "enc", "shardId-000000000000").await;
    assert_eq!(records.len(), 2);
    assert_eq!(records[1].encryption_type(), Some(&EncryptionType::Kms));
    let err = k
        .start_stream_encryption()
        .stream_name("enc")
        .encryption_type(EncryptionType::None)
        .key_id("k")
        .send()
        .await
        .expect_err("NONE is not an encryption");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    k.stop_stream_encryption()
        .stream_name("enc")
        .encryption_type(EncryptionType::Kms)
        .key_id("alias/aws/kinesis")
        .send()
        .await
        .expect("stop");
    let s = summary(&k, "enc").await;
    assert_eq!(s.encryption_type(), Some(&EncryptionType::None));
    assert_eq!(s.key_id(), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resource_tags_and_policies_on_streams_and_consumers() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    create_stream(&k, "r", 1).await;
    let arn = summary(&k, "r").await.stream_arn().to_string();
    let consumer = k
        .register_stream_consumer()
        .stream_arn(&arn)
        .consumer_name("c")
        .send()
        .await
        .expect("register")
        .consumer
        .expect("consumer")
        .consumer_arn;

    for resource in [&arn, &consumer] {
        k.tag_resource()
            .resource_arn(resource)
            .tags("team", "data")
            .tags("env", "dev")
            .send()
            .await
            .expect("tag");
        k.untag_resource()
            .resource_arn(resource)
            .tag_keys("env")
            .send()
            .await
            .expect("untag");
        let tags = k
            .list_tags_for_resource()
            .resource_arn(resource)
            .send()
            .await
            .expect("list");
        let pairs: Vec<_> = tags
            .tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().unwrap_or_default().to_string()))
            .collect();
        assert_eq!(
            pairs,
            vec![("team".to_string(), "data".to_string())],
            "{resource}"
        );
    }
    // The stream's tags are the same whichever operation reads them.
    let legacy = k
        .list_tags_for_stream()
        .stream_name("r")
        .send()
        .await
        .expect("legacy list");
    assert_eq!(legacy.tags().len(), 1);

    let mut too_many = k.add_tags_to_stream().stream_name("r");
    for i in 0..50 {
        too_many = too_many.tags(format!("k{i}"), "v");
    }
    let err = too_many.send().await.expect_err("51 tags");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    let err = k
        .add_tags_to_stream()
        .stream_name("r")
        .tags("bad*key", "v")
        .send()
        .await
        .expect_err("invalid characters");
    assert_eq!(error_code(&err), "InvalidArgumentException");

    let policy = r#"{"Version":"2012-10-17","Statement":[]}"#;
    k.put_resource_policy()
        .resource_arn(&arn)
        .policy(policy)
        .send()
        .await
        .expect("put policy");
    let got = k
        .get_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .expect("get policy");
    assert_eq!(got.policy(), policy);
    k.delete_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .expect("delete policy");
    let err = k
        .delete_resource_policy()
        .resource_arn(&arn)
        .send()
        .await
        .expect_err("no policy left");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
    let err = k
        .put_resource_policy()
        .resource_arn(&consumer)
        .policy("not json")
        .send()
        .await
        .expect_err("bad policy");
    assert_eq!(error_code(&err), "InvalidArgumentException");
    let err = k
        .list_tags_for_resource()
        .resource_arn("arn:aws:kinesis:us-east-1:000000000000:stream/nope")
        .send()
        .await
        .expect_err("unknown stream");
    assert_eq!(error_code(&err), "ResourceNotFoundException");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_settings_commitment_round_trips() {
    let engine = TestEngine::start();
    let k = engine.kinesis().await;
    let d = k.describe_account_settings().send().await.expect("describe");
    assert_eq!(
        d.minimum_throughput_billing_commitment()
            .map(|c| c.status().as_str().to_string()),
        Some("DISABLED".to_string())
    );
    let u = k
        .update_account_settings()
        .minimum_throughput_billing_commitment(
            MinimumThroughputBillingCommitmentInput::builder()
                .status(MinimumThroughputBillingCommitmentInputStatus::Enabled)
                .build()
                .expect("input"),
        )
        .send()
        .await
        .expect("enable");
    let c = u.minimum_throughput_billing_commitment().expect("commitment");
    assert_eq!(c.status().as_str(), "ENABLED");
    assert!(c.started_at().is_some() && c.earliest_allowed_end_at().is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumers_and_settings_survive_a_restart_with_data_dir() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = || kinlocal::engine::EngineConfig {
        data_dir: Some(dir.path().to_path_buf()),
        ..Default::default()
    };
    let consumer_arn;
    {
        let engine = TestEngine::start_with(config());
        let k = engine.kinesis().await;
        create_stream(&k, "keep", 1).await;
        let arn = summary(&k, "keep").await.stream_arn().to_string();
        consumer_arn = k
            .register_stream_consumer()
            .stream_arn(&arn)
            .consumer_name("c")
            .send()
            .await
            .expect("register")
            .consumer
            .expect("consumer")
            .consumer_arn;
        k.update_max_record_size()
            .stream_arn(&arn)
            .max_record_size_in_kib(4096)
            .send()
            .await
            .expect("record size");
        k.start_stream_encryption()
            .stream_name("keep")
            .encryption_type(EncryptionType::Kms)
            .key_id("alias/k")
            .send()
            .await
            .expect("encrypt");
    }
    let engine = TestEngine::start_with(config());
    let k = engine.kinesis().await;
    let s = summary(&k, "keep").await;
    assert_eq!(s.max_record_size_in_kib(), Some(4096));
    assert_eq!(s.key_id(), Some("alias/k"));
    assert_eq!(s.consumer_count(), Some(1));
    k.describe_stream_consumer()
        .consumer_arn(&consumer_arn)
        .send()
        .await
        .expect("consumer kept");
}
