//! GetRecords requests to a local endpoint, signed with SigV4 as the SDK signs them, with the
//! signing key kept for the day: as bytes on the wire for the sweeps, as a `hyper` request for
//! the reads kinlocal's engine holds. Building a request through `http` and `aws-sigv4` cost
//! more than everything else an idle sweep does (31 µs a request, most of it deriving the same
//! key again).

use std::time::{Duration, SystemTime};

use aws_sigv4::sign::v4::{calculate_signature, generate_signing_key};
use sha2::{Digest, Sha256};

use crate::engine::http::WAIT_HEADER;

/// The headers signed, in SigV4's order (kinlocal's long-poll hint last, when sent).
const SIGNED_HEADERS: &str = "content-type;host;x-amz-date;x-amz-target";
const CONTENT_TYPE: &str = "application/x-amz-json-1.1";
const TARGET: &str = "Kinesis_20131202.GetRecords";

/// Writes signed GetRecords requests for one endpoint.
pub(crate) struct RequestWriter {
    authority: String,
    region: String,
    access_key: String,
    secret: String,
    /// The day (`YYYYMMDD`) and its signing key.
    key: Option<(String, Vec<u8>)>,
}

impl RequestWriter {
    /// `authority` is `host:port`.
    pub(crate) fn new(authority: &str, region: &str, access_key: &str, secret: &str) -> Self {
        Self {
            authority: authority.to_string(),
            region: region.to_string(),
            access_key: access_key.to_string(),
            secret: secret.to_string(),
            key: None,
        }
    }

    /// A GetRecords request for `iterator`, as bytes on the wire, signed for `now`; `wait` is
    /// kinlocal's long-poll hint.
    pub(crate) fn get_records(
        &mut self,
        iterator: &str,
        limit: i32,
        wait: Option<Duration>,
        now: SystemTime,
    ) -> Vec<u8> {
        let body = body(iterator, limit);
        let mut wire = String::with_capacity(640 + body.len());
        wire.push_str("POST / HTTP/1.1\r\n");
        for (name, value) in self.headers(&body, wait, now) {
            wire.push_str(name);
            wire.push_str(": ");
            wire.push_str(&value);
            wire.push_str("\r\n");
        }
        wire.push_str("\r\n");
        wire.push_str(&body);
        wire.into_bytes()
    }

    /// The same request for `hyper`'s client.
    pub(crate) fn get_records_request(
        &mut self,
        iterator: &str,
        limit: i32,
        wait: Option<Duration>,
        now: SystemTime,
    ) -> Result<hyper::Request<bytes::Bytes>, hyper::http::Error> {
        let body = body(iterator, limit);
        let mut builder = hyper::Request::post("/");
        for (name, value) in self.headers(&body, wait, now) {
            builder = builder.header(name, value);
        }
        builder.body(bytes::Bytes::from(body))
    }

    /// Every header of a request with `body`, signed.
    fn headers(
        &mut self,
        body: &str,
        wait: Option<Duration>,
        now: SystemTime,
    ) -> Vec<(&'static str, String)> {
        // `2026-12-02T10:37:00Z` → `20261202T103700Z`.
        let stamp: String = humantime::format_rfc3339_seconds(now)
            .to_string()
            .chars()
            .filter(|c| *c != '-' && *c != ':')
            .collect();
        let day = &stamp[..8];
        let key = match &self.key {
            Some((d, key)) if d == day => key,
            _ => {
                let key = generate_signing_key(&self.secret, now, &self.region, "kinesis");
                &self.key.insert((day.to_string(), key.as_ref().to_vec())).1
            }
        };
        let wait = wait.map(|w| w.as_millis().to_string());
        let (wait_line, wait_signed) = match &wait {
            Some(ms) => (format!("{WAIT_HEADER}:{ms}\n"), format!(";{WAIT_HEADER}")),
            None => (String::new(), String::new()),
        };
        let canonical = format!(
            "POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{}\nx-amz-date:{stamp}\nx-amz-target:{TARGET}\n{wait_line}\n{SIGNED_HEADERS}{wait_signed}\n{}",
            self.authority,
            hex::encode(Sha256::digest(body.as_bytes()))
        );
        let scope = format!("{day}/{}/kinesis/aws4_request", self.region);
        let to_sign = format!(
            "AWS4-HMAC-SHA256\n{stamp}\n{scope}\n{}",
            hex::encode(Sha256::digest(canonical.as_bytes()))
        );
        let signature = calculate_signature(key, to_sign.as_bytes());
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={SIGNED_HEADERS}{wait_signed}, Signature={signature}",
            self.access_key
        );
        let mut headers = vec![
            ("host", self.authority.clone()),
            ("content-type", CONTENT_TYPE.to_string()),
            ("x-amz-target", TARGET.to_string()),
            ("x-amz-date", stamp),
        ];
        if let Some(ms) = wait {
            headers.push((WAIT_HEADER, ms));
        }
        headers.push(("authorization", authorization));
        headers.push(("content-length", body.len().to_string()));
        headers
    }
}

/// GetRecords' JSON body.
fn body(iterator: &str, limit: i32) -> String {
    format!(
        "{{\"ShardIterator\":{},\"Limit\":{limit}}}",
        serde_json::Value::from(iterator)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
    use aws_smithy_runtime_api::client::identity::Identity;

    /// The same request signed by `aws-sigv4`, as the SDK signs it.
    fn signed_by_the_sdk(
        authority: &str,
        body: &str,
        wait: Option<&str>,
        now: SystemTime,
    ) -> Vec<(String, String)> {
        let identity: Identity =
            aws_sdk_kinesis::config::Credentials::new("AKID", "s3cr3t", None, None, "t").into();
        let mut headers = vec![
            ("host", authority),
            ("content-type", CONTENT_TYPE),
            ("x-amz-target", TARGET),
        ];
        if let Some(ms) = wait {
            headers.push((WAIT_HEADER, ms));
        }
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region("eu-west-3")
            .name("kinesis")
            .time(now)
            .settings(SigningSettings::default())
            .build()
            .expect("params")
            .into();
        let uri = format!("http://{authority}/");
        let signable = SignableRequest::new(
            "POST",
            &uri,
            headers.iter().copied(),
            SignableBody::Bytes(body.as_bytes()),
        )
        .expect("signable");
        let (instructions, _) = sign(signable, &params).expect("signed").into_parts();
        instructions
            .headers()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn requests_are_signed_exactly_as_the_sdk_signs_them() {
        let mut writer = RequestWriter::new("127.0.0.1:4567", "eu-west-3", "AKID", "s3cr3t");
        let day = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_212_620);
        // Two on one day (the key kept), one on the next (a new key); with and without
        // kinlocal's long-poll hint.
        for (now, iterator, wait) in [
            (day, "AAAA/it+1==", None),
            (day + Duration::from_secs(7), "it \"quoted\"", Some(500)),
            (day + Duration::from_secs(86_400), "x", None),
        ] {
            let wait = wait.map(Duration::from_millis);
            let wire = writer.get_records(iterator, 250, wait, now);
            let wire = String::from_utf8(wire).expect("text");
            let (head, body) = wire.split_once("\r\n\r\n").expect("a head and a body");
            let json: serde_json::Value = serde_json::from_str(body).expect("json body");
            assert_eq!(json["ShardIterator"], iterator);
            assert_eq!(json["Limit"], 250);
            let mut lines = head.split("\r\n");
            assert_eq!(lines.next(), Some("POST / HTTP/1.1"));
            let ours: Vec<(String, String)> = lines
                .map(|l| l.split_once(": ").expect("a header"))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let header = |name: &str| ours.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
            assert_eq!(header("content-length"), Some(body.len().to_string()));
            let ms = wait.map(|w| w.as_millis().to_string());
            assert_eq!(header(WAIT_HEADER), ms);
            let sdk = signed_by_the_sdk("127.0.0.1:4567", body, ms.as_deref(), now);
            assert!(!sdk.is_empty());
            for (name, value) in &sdk {
                assert_eq!(header(name).as_ref(), Some(value), "{name}");
            }
            // The hyper form carries the same headers and body.
            let request = writer
                .get_records_request(iterator, 250, wait, now)
                .expect("a request");
            assert_eq!(request.body().as_ref(), body.as_bytes());
            for (name, value) in &ours {
                let got = request.headers().get(name).and_then(|v| v.to_str().ok());
                assert_eq!(got, Some(value.as_str()), "{name}");
            }
        }
    }
}
