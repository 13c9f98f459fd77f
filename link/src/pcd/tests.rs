use super::*;
use crate::local::LibraryIdentity;
use crate::seen::Seen;

fn sender() -> Sender {
    Sender {
        pump_id: "PERFUSE-0001".into(),
        facility: "HOSP".into(),
    }
}

fn status() -> Status {
    Status {
        sequence: 3,
        at: 1_796_292_900,
        platform: "Perfuse S50 syringe".into(),
        mode: Mode::Delivering,
        rate: "25".parse().unwrap(),
        vtbi: Some("50".parse().unwrap()),
        delivered: "1.250".parse().unwrap(),
        remaining: Some("48.75".parse().unwrap()),
        drug: Some("Heparin".into()),
        library: Some(LibraryIdentity {
            name: "General wards".into(),
            version: "2026.11".into(),
            sha256: "ab".repeat(32),
        }),
        alarms: vec![],
    }
}

/// The order of the IHE PCD TF-2 example: dopamine 400 mg in 250 mL at
/// 5 mcg/kg/min for a 70 kg patient, VTBI 250 mL.
pub(crate) const ORDER: &str = "MSH|^~\\&|BCMA^1234560000000001^EUI-64|HOSP|PERFUSE^PERFUSE-0001^L|HOSP|20261203092000+0000||RGV^O15^RGV_O15|MSG0003|P|2.6|||AL|AL||UNICODE UTF-8|||IHE_PCD_PIV_001^IHE PCD^1.3.6.1.4.1.19376.1.6.1.3.1^ISO\rPID|||MRN12345^^^HOSP^MR||Doe^Jane^^^^^L||19660101|F\rPV1||I|ICU^12^1\rORC|RE|ORD777^BCMA|||||||20261203091955+0000\rRXG|1|||1234^Dopamine^LOCAL|250||263762^MDC_DIM_MILLI_L^MDC||||||||5|265619^MDC_DIM_MICRO_G_PER_KG_PER_MIN^MDC|400|263890^MDC_DIM_MILLI_G^MDC|||||250|263762^MDC_DIM_MILLI_L^MDC\rTQ1|1||||||||||||2^264384&MDC_DIM_HR&MDC\rRXR|^IV^HL70162||^IVP^HL70164|^IV^HL70165\rOBX|1||69986^MDC_DEV_PUMP_INFUS_VMD^MDC||||||||X|||||||PERFUSE-0001^^PERFUSE-0001^L\rOBX|2|NM|68063^MDC_ATTR_PT_WEIGHT^MDC||70.0|263875^MDC_DIM_KILO_G^MDC|||||F\r";

#[test]
fn a_status_carries_the_program_progress_and_library_in_mdc_terms() {
    let message = status_message(&sender(), &status(), "PFS1");
    let text = message.to_er7();
    let back = Message::parse(text.as_bytes()).unwrap();
    let header = back.header().unwrap();
    assert_eq!(header.raw(9), "ORU^R01^ORU_R01");
    assert_eq!(header.component(21, 3), "1.3.6.1.4.1.19376.1.6.1.1.1");
    let value = |code: &str| {
        back.all("OBX")
            .find(|obx| obx.component(3, 1) == code)
            .map(|obx| (obx.text(5), obx.component(5, 2), obx.component(6, 2)))
            .unwrap()
    };
    assert_eq!(
        value("157784"),
        ("25".into(), "".into(), "MDC_DIM_MILLI_L_PER_HR".into())
    );
    assert_eq!(value("157993").0, "1.25");
    assert_eq!(value("157872").0, "48.75");
    assert_eq!(value("184519").1, "pump-status-infusing");
    assert_eq!(value("184514").0, "Heparin");
    assert_eq!(value("184517").0, "General wards 2026.11");
    assert_eq!(value("LIBRARY_SHA256").0, "ab".repeat(32));
    let set_ids: Vec<String> = back.all("OBX").map(|obx| obx.text(1)).collect();
    let expected: Vec<String> = (1..=set_ids.len()).map(|n| n.to_string()).collect();
    assert_eq!(set_ids, expected);
}

#[test]
fn an_alarm_start_and_end_share_their_alert_id() {
    let alarm = Alarm {
        condition: "downstream-occlusion".into(),
        priority: Priority::High,
        text: "Downstream occlusion".into(),
    };
    for (phase, words) in [
        (Phase::Start, ("start", "active")),
        (Phase::End, ("end", "inactive")),
    ] {
        let message = alarm_message(&sender(), &alarm, phase, "A7", 1_796_292_900, "PFS2");
        let back = Message::parse(message.to_er7().as_bytes()).unwrap();
        assert_eq!(back.header().unwrap().raw(9), "ORU^R40^ORU_R40");
        assert_eq!(back.first("OBR", "").unwrap().text(3), "A7");
        let facets: Vec<String> = back.all("OBX").map(|obx| obx.text(5)).collect();
        assert_eq!(
            facets,
            ["196940", "69986", words.0, words.1, "enabled", "PH", "ST"]
        );
    }
}

#[test]
fn the_example_order_reads_whole() {
    let order = read_order(&Message::parse(ORDER.as_bytes()).unwrap()).unwrap();
    assert_eq!(order.order_id, "ORD777");
    assert_eq!(order.pump_id, "PERFUSE-0001");
    assert_eq!(order.patient_id, "MRN12345");
    assert_eq!(order.patient_name, "Jane Doe");
    assert_eq!(order.drug, "Dopamine");
    assert_eq!(order.rate, None);
    let dose = order.dose.unwrap();
    assert_eq!(dose.to_string(), "5 mcg/kg/min");
    assert_eq!(order.concentration.unwrap().to_string(), "400 mg / 250 mL");
    assert_eq!(order.vtbi.to_string(), "250 mL");
    assert_eq!(order.weight.unwrap().to_string(), "70 kg");
    assert_eq!(order.sent_at, 1_796_289_600);
    assert_eq!(order.expires_at, 1_796_289_600 + DEFAULT_VALIDITY_S);
}

#[test]
fn a_rate_order_reads_in_ml_per_hour() {
    let text = ORDER.replace(
        "||5|265619^MDC_DIM_MICRO_G_PER_KG_PER_MIN^MDC|",
        "||12.5|265266^MDC_DIM_MILLI_L_PER_HR^MDC|",
    );
    let order = read_order(&Message::parse(text.as_bytes()).unwrap()).unwrap();
    assert_eq!(order.rate.unwrap().to_string(), "12.5 mL/h");
    assert_eq!(order.dose, None);
}

#[test]
fn each_missing_or_wrong_part_of_an_order_is_named() {
    let cases: [(&str, &str, &str); 8] = [
        (
            "1.3.6.1.4.1.19376.1.6.1.3.1",
            "1.2.3",
            "the message profile",
        ),
        ("ORC|RE|ORD777^BCMA|", "ORC|RE||", "the placer order number"),
        (
            "|1234^Dopamine^LOCAL|250|",
            "|1234^^LOCAL|250|",
            "the drug's name",
        ),
        (
            "|1234^Dopamine^LOCAL|250|",
            "|1234^Dopamine^LOCAL|-3|",
            "the volume to be infused",
        ),
        ("||5|265619^", "||five|265619^", "the rate or dose rate"),
        (
            "265619^MDC_DIM_MICRO_G_PER_KG_PER_MIN",
            "999^FURLONGS_PER_FORTNIGHT",
            "the rate's unit",
        ),
        (
            "|70.0|263875^MDC_DIM_KILO_G^MDC|",
            "|70.0|263876^MDC_DIM_LB^MDC|",
            "the weight's unit",
        ),
        (
            "20261203092000+0000||RGV",
            "2026-12-03||RGV",
            "the time of the message",
        ),
    ];
    for (from, to, what) in cases {
        assert!(ORDER.contains(from), "{from}");
        let text = ORDER.replacen(from, to, 1);
        let error = read_order(&Message::parse(text.as_bytes()).unwrap()).unwrap_err();
        let named = match &error {
            Hl7Error::Invalid { what, .. } | Hl7Error::Missing { what, .. } => *what,
            other => panic!("{to}: {other:?}"),
        };
        assert_eq!(named, what, "{error}");
    }
    let no_pump = ORDER.replace("OBX|1||69986", "OBX|1||69985");
    assert!(matches!(
        read_order(&Message::parse(no_pump.as_bytes()).unwrap()),
        Err(Hl7Error::NoSegment { name: "OBX", .. })
    ));
}

#[test]
fn an_order_for_another_pump_a_replay_and_an_expired_order_are_refused() {
    let order = read_order(&Message::parse(ORDER.as_bytes()).unwrap()).unwrap();
    let mut seen = Seen::new(16);
    let now = order.sent_at + 5;
    assert_eq!(
        screen(&order, "PERFUSE-0002", now, &mut seen),
        Err(Refusal::OtherPump("PERFUSE-0001".into()))
    );
    assert_eq!(
        screen(&order, "PERFUSE-0001", order.expires_at, &mut seen),
        Err(Refusal::Expired)
    );
    assert_eq!(screen(&order, "PERFUSE-0001", now, &mut seen), Ok(()));
    assert_eq!(
        screen(&order, "PERFUSE-0001", now, &mut seen),
        Err(Refusal::Replayed)
    );
}

#[test]
fn the_answer_to_an_order_names_the_reason() {
    let answer = order_answer(
        &sender(),
        "MSG0003",
        "ORD777",
        Some(&Refusal::Expired),
        1_796_292_900,
        "PFS9",
    );
    let back = Message::parse(answer.to_er7().as_bytes()).unwrap();
    assert_eq!(back.header().unwrap().raw(9), "RRG^O16^RRG_O16");
    let msa = back.first("MSA", "").unwrap();
    assert_eq!((msa.text(1), msa.text(2)), ("AR".into(), "MSG0003".into()));
    assert!(back.first("ERR", "").unwrap().text(8).contains("expired"));
    let shown = order_answer(&sender(), "MSG0003", "ORD777", None, 1_796_292_900, "PFS9");
    assert_eq!(
        Message::parse(shown.to_er7().as_bytes())
            .unwrap()
            .first("MSA", "")
            .unwrap()
            .text(1),
        "AA"
    );
}

#[test]
fn acknowledgements_are_read_and_written() {
    let ack = acknowledgement(
        &sender(),
        "O15",
        "MSG0003",
        Accept::Error,
        Some("no RXG"),
        1_796_292_900,
        "PFS4",
    );
    let back = Message::parse(ack.to_er7().as_bytes()).unwrap();
    assert_eq!(
        read_acknowledgement(&back).unwrap(),
        Acknowledged {
            control_id: "MSG0003".into(),
            accepted: false,
            code: "CE".into()
        }
    );
    let bad = Message::parse(b"MSH|^~\\&|GW\rMSA|OK|X").unwrap();
    assert!(matches!(
        read_acknowledgement(&bad),
        Err(Hl7Error::Invalid { .. })
    ));
}
