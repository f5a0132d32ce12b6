//! TensorBoard event files, written without TensorFlow: TFRecord framing with masked CRC32C
//! around hand-encoded `Event` protobufs carrying scalar summaries; written live during training
//! ([`LiveEvents`]) or converted from a run folder's metrics afterwards ([`write_run_metrics`]).

mod event;
mod event_file;
mod live_events;
mod record;
mod run_metrics;

pub use event::{Event, EventContent};
pub use event_file::{read_event_file, EventWriter, EVENT_FILE_PREFIX, FILE_VERSION};
pub use live_events::{is_live_event_file, LiveEvents, LIVE_EVENT_SUFFIX};
pub use record::masked_crc32c;
pub use run_metrics::{tag_for, write_events, write_run_metrics};
