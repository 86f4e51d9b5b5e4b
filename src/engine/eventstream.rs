//! AWS event stream framing (`application/vnd.amazon.eventstream`) for SubscribeToShard: the
//! prelude, headers and CRCs come from `aws-smithy-eventstream`, the SDKs' own codec; this
//! module only names the messages Kinesis sends.

use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;

use super::codec::Format;

/// The `Content-Type` of an event stream response.
pub(crate) const CONTENT_TYPE: &str = "application/vnd.amazon.eventstream";

/// An `event` message of type `event_type` (`initial-response`, `SubscribeToShardEvent`)
/// whose payload is encoded in `format`.
pub(crate) fn event(event_type: &'static str, format: Format, payload: Vec<u8>) -> Bytes {
    frame(
        Message::new(payload)
            .add_header(string(":message-type", "event"))
            .add_header(string(":event-type", event_type))
            .add_header(string(":content-type", format.content_type())),
    )
}

/// An `exception` message: a modelled error ending the stream (`ResourceInUseException`, ...).
pub(crate) fn exception(code: &'static str, format: Format, payload: Vec<u8>) -> Bytes {
    frame(
        Message::new(payload)
            .add_header(string(":message-type", "exception"))
            .add_header(string(":exception-type", code))
            .add_header(string(":content-type", format.content_type())),
    )
}

fn string(name: &'static str, value: &'static str) -> Header {
    Header::new(name, HeaderValue::String(value.into()))
}

fn frame(message: Message) -> Bytes {
    let mut out = Vec::with_capacity(message.payload().len() + 128);
    // Writing fails only for a payload over the format's 16 MiB message limit; events are
    // built far below it (a SubscribeToShardEvent carries at most a few MiB of records).
    match aws_smithy_eventstream::frame::write_message_to(&message, &mut out) {
        Ok(()) => Bytes::from(out),
        Err(_) => Bytes::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_decode_with_the_sdk_codec() {
        let bytes = event(
            "SubscribeToShardEvent",
            Format::Json11,
            b"{\"Records\":[]}".to_vec(),
        );
        let msg = aws_smithy_eventstream::frame::read_message_from(bytes).expect("valid frame");
        let header = |name: &str| {
            msg.headers()
                .iter()
                .find(|h| h.name().as_str() == name)
                .and_then(|h| h.value().as_string().ok())
                .map(|s| s.as_str().to_string())
        };
        assert_eq!(header(":message-type").as_deref(), Some("event"));
        assert_eq!(header(":event-type").as_deref(), Some("SubscribeToShardEvent"));
        assert_eq!(
            header(":content-type").as_deref(),
            Some("application/x-amz-json-1.1")
        );
        assert_eq!(&msg.payload()[..], b"{\"Records\":[]}");

        let bytes = exception("ResourceInUseException", Format::Cbor, vec![0xa0]);
        let msg = aws_smithy_eventstream::frame::read_message_from(bytes).expect("valid frame");
        assert!(msg
            .headers()
            .iter()
            .any(|h| h.name().as_str() == ":exception-type"));
    }
}
