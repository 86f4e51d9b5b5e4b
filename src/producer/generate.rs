//! Random records that look like application events: an id, an ISO timestamp, an event type,
//! a user (nested object), an amount, an item count, a boolean and a free-text note that pads
//! the record to the asked-for size.

use rand::seq::IndexedRandom;
use rand::{Rng, RngCore};
use serde::Serialize;

use super::clock::{iso_millis, EventClock};

/// Words for notes and the template's `{{word}}`/`{{words N}}`.
pub(crate) const WORDS: &[&str] = &[
    "alpha", "amber", "apple", "arrow", "atlas", "basil", "beacon", "birch", "blaze", "bloom", "breeze",
    "brook", "cable", "canyon", "cedar", "cinder", "cloud", "comet", "coral", "crane", "delta", "drift",
    "ember", "falcon", "fern", "field", "flint", "forest", "frost", "garden", "glade", "granite", "harbor",
    "hazel", "heron", "island", "ivory", "jade", "juniper", "lagoon", "lantern", "maple", "meadow", "mesa",
    "meteor", "mint", "moss", "nectar", "north", "oasis", "ocean", "olive", "onyx", "orbit", "pebble",
    "pine", "prairie", "quartz", "raven", "reef", "ridge", "river", "saffron", "shadow", "signal", "silver",
    "spruce", "storm", "summit", "thistle", "tide", "timber", "topaz", "tundra", "valley", "velvet",
    "willow", "winter", "zephyr", "zenith",
];

const EVENT_TYPES: &[&str] = &[
    "page_view",
    "click",
    "search",
    "add_to_cart",
    "purchase",
    "login",
    "logout",
    "signup",
];
const PLANS: &[&str] = &["free", "pro", "team"];

#[derive(Serialize)]
struct User {
    id: String,
    plan: &'static str,
}

#[derive(Serialize)]
struct Event {
    id: String,
    timestamp: String,
    #[serde(rename = "type")]
    kind: &'static str,
    user: User,
    amount: f64,
    items: u32,
    ok: bool,
}

/// Bytes that `,"note":""` adds to a record.
const NOTE_OVERHEAD: usize = 10;

/// Generates event records of (at least) `size` bytes.
#[derive(Debug, Clone)]
pub(crate) struct EventGenerator {
    size: usize,
    clock: EventClock,
}

impl EventGenerator {
    /// A generator for records of `size` bytes. Records cannot be smaller than their fixed
    /// fields (at most 180 bytes); below that they are as small as they can be.
    pub fn new(size: usize, clock: EventClock) -> Self {
        Self { size, clock }
    }

    /// The next record: valid JSON, exactly `size` bytes when `size` leaves room for the note.
    pub fn next<R: RngCore>(&mut self, rng: &mut R) -> Vec<u8> {
        let uuid = uuid::Builder::from_random_bytes(rng.random()).into_uuid();
        let ms = self.clock.tick(rng);
        let event = Event {
            id: uuid.hyphenated().to_string(),
            timestamp: iso_millis(ms),
            kind: pick(EVENT_TYPES, rng),
            user: User {
                id: format!("user-{:04}", rng.random_range(1..=5000)),
                plan: pick(PLANS, rng),
            },
            amount: f64::from(rng.random_range(0..100_000_u32)) / 100.0,
            items: rng.random_range(1..=9),
            ok: rng.random_bool(0.9),
        };
        // Draw the note's words whatever the size, so the sequence of draws (hence a seeded
        // run) does not depend on how long earlier records were.
        let seed_word = rng.random_range(0..WORDS.len());
        let mut out = Vec::with_capacity(self.size.max(200));
        if serde_json::to_writer(&mut out, &event).is_err() {
            return out;
        }
        let room = self.size.saturating_sub(out.len() + NOTE_OVERHEAD);
        if room == 0 {
            return out;
        }
        // Append the note by hand instead of serialising twice: it is plain lowercase words,
        // so it needs no escaping, and `out` ends with the object's closing brace.
        out.pop();
        out.extend_from_slice(b",\"note\":\"");
        out.extend_from_slice(filler(room, seed_word).as_bytes());
        out.extend_from_slice(b"\"}");
        out
    }
}

fn pick<R: RngCore>(choices: &[&'static str], rng: &mut R) -> &'static str {
    choices.choose(rng).copied().unwrap_or("")
}

/// Exactly `len` characters of words separated by spaces, starting at word `first`.
fn filler(len: usize, first: usize) -> String {
    let mut s = String::with_capacity(len + 16);
    let mut i = first;
    while s.len() < len {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(WORDS[i % WORDS.len()]);
        i = i.wrapping_mul(31).wrapping_add(7);
    }
    s.truncate(len);
    // A note never ends in a space: swap it for a letter (keeps the length).
    if s.ends_with(' ') {
        s.pop();
        s.push('s');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn records_are_valid_json_of_the_asked_size() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        for size in [200usize, 256, 1000, 4096] {
            let mut g = EventGenerator::new(size, EventClock::new(false));
            for _ in 0..500 {
                let r = g.next(&mut rng);
                assert_eq!(r.len(), size, "{}", String::from_utf8_lossy(&r));
                let v: serde_json::Value = serde_json::from_slice(&r).expect("valid JSON");
                assert!(v["user"]["id"].as_str().is_some_and(|s| s.starts_with("user-")));
                assert!(v["ok"].is_boolean());
                assert!(v["amount"].is_number());
            }
        }
    }

    #[test]
    fn small_sizes_give_the_smallest_record() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut g = EventGenerator::new(10, EventClock::new(true));
        let r = g.next(&mut rng);
        assert!(r.len() < 200);
        serde_json::from_slice::<serde_json::Value>(&r).expect("valid JSON");
    }

    #[test]
    fn records_vary() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        let mut g = EventGenerator::new(200, EventClock::new(false));
        let types: std::collections::HashSet<String> = (0..200)
            .map(|_| {
                let v: serde_json::Value = serde_json::from_slice(&g.next(&mut rng)).expect("json");
                v["type"].as_str().unwrap_or_default().to_string()
            })
            .collect();
        assert!(types.len() >= 5, "{types:?}");
    }

    #[test]
    fn same_seed_same_records() {
        let run = || {
            let mut rng = rand::rngs::StdRng::seed_from_u64(42);
            let mut g = EventGenerator::new(200, EventClock::new(true));
            (0..50).map(|_| g.next(&mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(), run());
    }
}
