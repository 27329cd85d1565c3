//! Arbitrary bytes never panic the CSV/ISEAR, `.npy` and pickle readers.

use std::path::Path;

use proptest::prelude::*;
use storyscore::data;
use storyscore::formats::{npy, pickle};

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn npy_parser_survives_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = npy::parse(&bytes, Path::new("fuzz.npy"));
    }

    #[test]
    fn npy_parser_survives_any_body(
        descr in prop::sample::select(vec!["<f4", "<f8", "<i8", "<U7", "|O", "<c16"]),
        dims in proptest::collection::vec(0usize..5, 0..3),
        body in proptest::collection::vec(any::<u8>(), 0..256),
    ) {
        let shape = format!("({})", dims.iter().map(|d| format!("{d},")).collect::<String>());
        let header = format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}\n");
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(&body);
        let _ = npy::parse(&bytes, Path::new("fuzz.npy"));
    }

    #[test]
    fn pickle_reader_survives_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        if let Ok(v) = pickle::parse_value(&bytes, Path::new("fuzz.pkl")) {
            let _ = pickle::PickledArray::from_state(&v, Path::new("fuzz.pkl"));
            let _ = pickle::dict_entries(&v, Path::new("fuzz.pkl"));
        }
    }

    #[test]
    fn text_readers_survive_any_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("input.csv");
        std::fs::write(&file, &bytes).unwrap();
        let _ = data::isear::load(&file);
        let _ = data::emobank::load(&file);
        let _ = data::fourq::load(&file);
        let _ = data::folder::load_manifest(&file);
        let _ = storyscore::emotion::VaLexicon::load(&file);
    }

    #[test]
    fn isear_reader_survives_mangled_rows(
        rows in proptest::collection::vec("[a-z|á\"\\\\ ]{0,80}", 0..20),
    ) {
        let header = "ID|CITY|COUN|SUBJ|SEX|AGE|RELI|PRAC|FOCC|MOCC|FIEL|EMOT|WHEN|LONG|INTS|ERGO|TROPHO|TEMPER|EXPRES|MOVE|EXP1|EXP2|EXP10|PARAL|CON|EXPC|PLEA|PLAN|FAIR|CAUS|COPING|MORL|SELF|RELA|VERBAL|NEUTRO|Field1|Field3|Field2|MYKEY|SIT|STATE|";
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("isear.csv");
        std::fs::write(&file, format!("{header}\n{}", rows.join("\n"))).unwrap();
        let (data, issues) = data::isear::load(&file).unwrap();
        prop_assert_eq!(data.items.len() + issues.len(), rows.iter().filter(|r| !r.is_empty()).count());
    }
}
