//! TFRecord framing, the container of TensorBoard event files
//! (tensorflow/core/lib/io/record_writer.cc):
//!
//! ```text
//! u64 length (little endian) | u32 masked_crc32c(length bytes) | data | u32 masked_crc32c(data)
//! ```

use std::io::Write;

/// TFRecord's CRC mask: rotate right by 15 bits and add a constant, so that a CRC stored inside
/// CRC-checked data does not make the outer CRC trivially predictable.
pub fn masked_crc32c(bytes: &[u8]) -> u32 {
    let crc = crc32c::crc32c(bytes);
    crc.rotate_right(15).wrapping_add(0xa282_ead8)
}

/// Writes one framed record.
pub fn write_record(out: &mut impl Write, data: &[u8]) -> std::io::Result<()> {
    let length = (data.len() as u64).to_le_bytes();
    out.write_all(&length)?;
    out.write_all(&masked_crc32c(&length).to_le_bytes())?;
    out.write_all(data)?;
    out.write_all(&masked_crc32c(data).to_le_bytes())
}

/// Splits a whole file into its records, checking both CRCs of each.
/// The error says which record (0-based) is bad and why.
pub fn read_records(bytes: &[u8]) -> Result<Vec<&[u8]>, String> {
    match valid_records(bytes) {
        (records, None) => Ok(records),
        (_, Some(error)) => Err(error),
    }
}

/// The records before the first bad one, and what is wrong with that one (if any). A writer
/// killed mid-record leaves a truncated tail; everything before it is still good.
pub fn valid_records(bytes: &[u8]) -> (Vec<&[u8]>, Option<String>) {
    let mut records = Vec::new();
    let mut rest = bytes;
    while !rest.is_empty() {
        match next_record(rest, records.len()) {
            Ok((data, after)) => {
                records.push(data);
                rest = after;
            }
            Err(error) => return (records, Some(error)),
        }
    }
    (records, None)
}

/// The first record of `bytes` and what follows it.
fn next_record(rest: &[u8], index: usize) -> Result<(&[u8], &[u8]), String> {
    if rest.len() < 12 {
        return Err(format!(
            "record {index}: truncated header ({} bytes)",
            rest.len()
        ));
    }
    let (length_bytes, after) = rest.split_at(8);
    let length_crc = u32::from_le_bytes(after[..4].try_into().expect("4 bytes"));
    if masked_crc32c(length_bytes) != length_crc {
        return Err(format!("record {index}: length CRC mismatch"));
    }
    let length = u64::from_le_bytes(length_bytes.try_into().expect("8 bytes"));
    let body = &after[4..];
    let needed = usize::try_from(length)
        .ok()
        .and_then(|n| n.checked_add(4))
        .filter(|&n| n <= body.len());
    let Some(needed) = needed else {
        return Err(format!(
            "record {index}: truncated ({length} data bytes announced, {} left)",
            body.len()
        ));
    };
    let (data, crc_bytes) = body[..needed].split_at(needed - 4);
    if masked_crc32c(data) != u32::from_le_bytes(crc_bytes.try_into().expect("4 bytes")) {
        return Err(format!("record {index}: data CRC mismatch"));
    }
    Ok((data, &body[needed..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_matches_the_published_check_value() {
        // RFC 3720 (iSCSI) B.4: CRC32C of "123456789" is 0xE3069283.
        assert_eq!(crc32c::crc32c(b"123456789"), 0xE306_9283);
        assert_eq!(
            masked_crc32c(b"123456789"),
            0xE306_9283u32.rotate_right(15).wrapping_add(0xa282_ead8)
        );
    }

    #[test]
    fn records_round_trip_and_corruption_is_detected() {
        let mut file = Vec::new();
        write_record(&mut file, b"first").unwrap();
        write_record(&mut file, b"").unwrap();
        write_record(&mut file, &[7u8; 300]).unwrap();
        let records = read_records(&file).unwrap();
        assert_eq!(records, vec![&b"first"[..], &b""[..], &[7u8; 300][..]]);

        let mut flipped = file.clone();
        flipped[14] ^= 1; // inside the data of record 0
        assert_eq!(
            read_records(&flipped).unwrap_err(),
            "record 0: data CRC mismatch"
        );
        let mut bad_length = file.clone();
        bad_length[0] ^= 1;
        assert_eq!(
            read_records(&bad_length).unwrap_err(),
            "record 0: length CRC mismatch"
        );
        let truncated = &file[..file.len() - 10];
        assert!(read_records(truncated)
            .unwrap_err()
            .starts_with("record 2: truncated"));
        let (good, error) = valid_records(truncated);
        assert_eq!(good, vec![&b"first"[..], &b""[..]]);
        assert!(error.unwrap().starts_with("record 2: truncated"));
    }
}
