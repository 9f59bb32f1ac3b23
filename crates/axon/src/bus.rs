//! The events PM2 publishes on `pub.sock`: a two-argument frame `[s:<event>, j:<payload>]`
//! broadcast to every subscriber (filtering is the client's).

use crate::arg::Arg;
use crate::frame::{encode, FrameError};
use serde_json::Value;

/// The frame of one bus event.
pub fn event(name: &str, payload: &Value) -> Result<Vec<u8>, FrameError> {
    encode(&[Arg::Str(name.to_string()), Arg::Json(payload.clone())])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::tests::hex;
    use serde_json::json;

    #[test]
    fn the_captured_pm2_kill_event_is_byte_for_byte() {
        let payload = json!({"status": "killed", "msg": "pm2 has been killed via CLI"});
        let want = hex("12 0000000a 733a706d323a6b696c6c 00000039")
            .into_iter()
            .chain(
                format!("j:{}", serde_json::to_string(&payload).unwrap_or_default()).into_bytes(),
            )
            .collect::<Vec<u8>>();
        let frame = event("pm2:kill", &payload).expect("encode");
        assert_eq!(frame.len(), 76);
        assert_eq!(frame, want);
    }
}
