//! SigV4 as the engine checks it: a request must look signed, in the `Authorization` header or
//! in the query string (a presigned URL), with AWS's errors for the malformed forms; the
//! signature itself is not verified. The credential scope names the region the client signed
//! for, which Kinesis writes into the ARNs it answers with.

use hyper::header::HeaderMap;

use super::error::ApiError;

/// What a well-formed signature tells the engine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Signed {
    /// The region of the credential scope (`AKID/DATE/REGION/SERVICE/aws4_request`), when it
    /// names one.
    pub region: Option<String>,
}

/// The query-string members a presigned request must carry, in the order AWS names them.
const QUERY_PARAMS: [&str; 5] = [
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Signature",
    "X-Amz-SignedHeaders",
    "X-Amz-Date",
];

/// Checks that a request is signed, by header or query string, as AWS checks it.
pub(crate) fn check(headers: &HeaderMap, query: Option<&str>) -> Result<Signed, ApiError> {
    let authorization = headers.get("authorization").and_then(|v| v.to_str().ok());
    let params: Vec<(String, String)> = query
        .map(|q| form_urlencoded::parse(q.as_bytes()).into_owned().collect())
        .unwrap_or_default();
    let param = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let presigned = param("X-Amz-Algorithm").is_some();
    match (authorization, presigned) {
        (Some(_), true) => Err(ApiError::new(
            "InvalidSignatureException",
            "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header.",
        )),
        (None, false) => Err(ApiError::new(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        )),
        (Some(auth), false) => check_header(headers, auth),
        (None, true) => {
            let mut msg = String::new();
            for name in QUERY_PARAMS {
                if param(name).is_none_or(str::is_empty) {
                    msg.push_str(&format!("AWS query-string parameters must include '{name}'. "));
                }
            }
            if !msg.is_empty() {
                msg.push_str("Re-examine the query-string parameters.");
                return Err(ApiError::new("IncompleteSignatureException", msg));
            }
            Ok(Signed {
                region: scope_region(param("X-Amz-Credential").unwrap_or_default()),
            })
        }
    }
}

/// `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`: the three parameters
/// present and non-empty (separated by commas or spaces), and a date header.
fn check_header(headers: &HeaderMap, auth: &str) -> Result<Signed, ApiError> {
    let params: Vec<(&str, &str)> = auth
        .split([',', ' '])
        .skip(1)
        .filter(|p| !p.is_empty())
        .map(|p| p.trim().split_once('=').unwrap_or((p.trim(), "")))
        .collect();
    let value = |name: &str| {
        params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .filter(|v| !v.is_empty())
    };
    let mut msg = String::new();
    for name in ["Credential", "Signature", "SignedHeaders"] {
        if value(name).is_none() {
            msg.push_str(&format!("Authorization header requires '{name}' parameter. "));
        }
    }
    if !headers.contains_key("x-amz-date") && !headers.contains_key("date") {
        msg.push_str("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. ");
    }
    if !msg.is_empty() {
        msg.push_str(&format!("Authorization={auth}"));
        return Err(ApiError::new("IncompleteSignatureException", msg));
    }
    Ok(Signed {
        region: scope_region(value("Credential").unwrap_or_default()),
    })
}

/// The region of a credential `AKID/20260101/eu-west-1/kinesis/aws4_request`.
fn scope_region(credential: &str) -> Option<String> {
    let parts: Vec<&str> = credential.split('/').collect();
    match parts.as_slice() {
        [_, _, region, _, _] if !region.is_empty() => Some((*region).to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, v.parse().expect("header value"));
        }
        h
    }

    fn message(r: Result<Signed, ApiError>) -> (String, String) {
        let e = r.expect_err("must be refused");
        (e.code.to_string(), e.message)
    }

    #[test]
    fn header_signatures_give_their_scope_region() {
        let h = headers(&[
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/kinesis/aws4_request, SignedHeaders=host, Signature=abc",
            ),
            ("x-amz-date", "20260101T000000Z"),
        ]);
        assert_eq!(check(&h, None).map(|s| s.region), Ok(Some("eu-west-1".into())));
        let h = headers(&[
            (
                "authorization",
                "AWS4-HMAC-SHA256 Credential=a/b, SignedHeaders=host, Signature=x",
            ),
            ("date", "x"),
        ]);
        assert_eq!(check(&h, None).map(|s| s.region), Ok(None));
    }

    #[test]
    fn malformed_headers_get_aws_wording() {
        let h = headers(&[("authorization", "AWS4- Signature=b Credential=a"), ("date", "a")]);
        assert_eq!(
            message(check(&h, None)),
            (
                "IncompleteSignatureException".into(),
                "Authorization header requires 'SignedHeaders' parameter. Authorization=AWS4- Signature=b Credential=a".into()
            )
        );
        let h = headers(&[("authorization", "X")]);
        assert_eq!(
            message(check(&h, None)).1,
            "Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=X"
        );
        assert_eq!(
            message(check(&HeaderMap::new(), Some("X-Amz-Algorith"))).0,
            "MissingAuthenticationTokenException"
        );
    }

    #[test]
    fn presigned_queries_are_recognised() {
        let q = "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fap-south-1%2Fkinesis%2Faws4_request&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=abc";
        assert_eq!(
            check(&HeaderMap::new(), Some(q)).map(|s| s.region),
            Ok(Some("ap-south-1".into()))
        );
        assert_eq!(
            message(check(&HeaderMap::new(), Some("X-Amz-Algorithm"))).1,
            "AWS query-string parameters must include 'X-Amz-Algorithm'. AWS query-string parameters must include 'X-Amz-Credential'. AWS query-string parameters must include 'X-Amz-Signature'. AWS query-string parameters must include 'X-Amz-SignedHeaders'. AWS query-string parameters must include 'X-Amz-Date'. Re-examine the query-string parameters."
        );
        assert_eq!(
            message(check(
                &HeaderMap::new(),
                Some("X-Amz-Algorithm=a&X-Amz-Credential=b&X-Amz-Signature=c&X-Amz-Date=d")
            ))
            .1,
            "AWS query-string parameters must include 'X-Amz-SignedHeaders'. Re-examine the query-string parameters."
        );
        let h = headers(&[("authorization", "X")]);
        assert_eq!(
            message(check(&h, Some("X-Amz-Algorithm"))),
            (
                "InvalidSignatureException".into(),
                "Found both 'X-Amz-Algorithm' as a query-string param and 'Authorization' as HTTP header."
                    .into()
            )
        );
    }
}
