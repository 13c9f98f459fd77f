//! PCD-03 on the pump's side: an RGV^O15 read strictly into the order it
//! proposes, screened, and answered with RRG^O16.

use super::*;

/// PCD-03: reads an RGV^O15 into the order it proposes. Every field the
/// pump needs is required and checked; what the order is for (which pump,
/// whether it is fresh) is `screen`'s judgement.
pub fn read_order(message: &Message) -> Result<ProposedOrder, Hl7Error> {
    let header = message.header()?;
    if header.component(21, 3) != PROFILE_PCD_03[2] {
        return Err(header.invalid(
            21,
            "the message profile",
            format!("the PCD-03 profile {}", PROFILE_PCD_03[2]),
        ));
    }
    let sent_at = header.required(7, 1, "the time of the message")?;
    let sent_at = parse_timestamp(&sent_at).ok_or_else(|| {
        header.invalid(
            7,
            "the time of the message",
            "an HL7 time YYYYMMDDHHMMSS[+-ZZZZ]",
        )
    })?;
    let pid = message.first("PID", "the patient")?;
    let patient_id = pid.required(3, 1, "the patient's identifier")?;
    let patient_name = [
        pid.component(5, 2),
        pid.required(5, 1, "the patient's family name")?,
    ]
    .iter()
    .filter(|part| !part.is_empty())
    .cloned()
    .collect::<Vec<_>>()
    .join(" ");
    let orc = message.first("ORC", "the common order")?;
    let order_id = orc.required(2, 1, "the placer order number")?;
    let rxg = message.first("RXG", "the pharmacy give")?;
    let drug = rxg.required(4, 2, "the drug's name")?;
    let vtbi = number(rxg, 5, "the volume to be infused")?;
    check_unit(rxg, 7, &ML, "the volume's unit")?;
    let rate_value = number(rxg, 15, "the rate or dose rate")?;
    let (rate, dose) = match rate_unit(rxg)? {
        None => (Some(MillilitresPerHour::new(rate_value)), None),
        Some(unit) => (
            None,
            Some(DoseRate {
                value: rate_value,
                unit,
            }),
        ),
    };
    let concentration = match rxg.component(17, 1).as_str() {
        "" => None,
        _ => {
            let amount = number(rxg, 17, "the drug amount")?;
            let unit = amount_unit(rxg, 18)?;
            let volume = number(rxg, 23, "the diluent volume")?;
            check_unit(rxg, 24, &ML, "the diluent volume's unit")?;
            Some(Concentration {
                amount: perfuse_core::therapy::Amount::new(amount, unit),
                volume: Millilitres::new(volume),
            })
        }
    };
    let mut pump_id = None;
    let mut weight = None;
    for segment in message.all("OBX") {
        match segment.component(3, 1).as_str() {
            code if code == VMD[0] => {
                pump_id = Some(segment.required(18, 1, "the pump's identifier")?)
            }
            WEIGHT => {
                let value = number(segment, 5, "the patient's weight")?;
                match segment.component(6, 1).as_str() {
                    "263875" | "kg" => weight = Some(Kilograms::new(value)),
                    _ => {
                        return Err(segment.invalid(
                            6,
                            "the weight's unit",
                            "263875^MDC_DIM_KILO_G^MDC",
                        ))
                    }
                }
            }
            _ => {}
        }
    }
    let pump_id = pump_id.ok_or(Hl7Error::NoSegment {
        name: "OBX",
        what: "the pump the order is for (69986^MDC_DEV_PUMP_INFUS_VMD with the pump in OBX-18)",
    })?;
    let expires_at = match message.first("TQ1", "the timing") {
        Ok(tq1) if !tq1.component(8, 1).is_empty() => parse_timestamp(&tq1.component(8, 1))
            .ok_or_else(|| {
                tq1.invalid(
                    8,
                    "the order's end time",
                    "an HL7 time YYYYMMDDHHMMSS[+-ZZZZ]",
                )
            })?,
        _ => sent_at + DEFAULT_VALIDITY_S,
    };
    Ok(ProposedOrder {
        order_id,
        pump_id,
        patient_id,
        patient_name,
        drug,
        concentration,
        rate,
        vtbi: Millilitres::new(vtbi),
        dose,
        weight,
        sent_at,
        expires_at,
    })
}

/// How long an order without an end time (TQ1-8) stays valid, seconds:
/// long enough to walk to the bedside, short enough that an old order is
/// not programmed for the wrong moment.
pub const DEFAULT_VALIDITY_S: i64 = 15 * 60;

fn number(segment: &Segment, field: usize, what: &'static str) -> Result<Decimal, Hl7Error> {
    let text = segment.required(field, 1, what)?;
    let value: Decimal = perfuse_core::therapy::parse_decimal(&text)
        .map_err(|_| segment.invalid(field, what, "a decimal number such as 25 or 2.5"))?;
    if value <= Decimal::ZERO {
        return Err(segment.invalid(field, what, "a number above zero"));
    }
    Ok(value)
}

fn check_unit(
    segment: &Segment,
    field: usize,
    unit: &[&str; 3],
    what: &'static str,
) -> Result<(), Hl7Error> {
    let code = segment.component(field, 1);
    if code == unit[0] || code == "mL" {
        Ok(())
    } else {
        Err(segment.invalid(field, what, format!("{}^{}^{}", unit[0], unit[1], unit[2])))
    }
}

/// RXG-16: mL/h (None), or the unit of a dose rate.
fn rate_unit(rxg: &Segment) -> Result<Option<DoseRateUnit>, Hl7Error> {
    let code = rxg.component(16, 1);
    if code == ML_PER_HOUR[0] || code == "mL/h" {
        return Ok(None);
    }
    if code == "265619" {
        return Ok(Some(DoseRateUnit {
            amount: AmountUnit::Microgram,
            basis: DoseBasis::PerKilogram,
            per: TimeBase::PerMinute,
        }));
    }
    [code, rxg.component(16, 2)]
        .iter()
        .find_map(|text| text.parse::<DoseRateUnit>().ok())
        .map(Some)
        .ok_or_else(|| {
            rxg.invalid(
                16,
                "the rate's unit",
                "265266^MDC_DIM_MILLI_L_PER_HR^MDC, 265619^MDC_DIM_MICRO_G_PER_KG_PER_MIN^MDC, or a dose rate unit such as mcg/kg/min or units/h",
            )
        })
}

fn amount_unit(segment: &Segment, field: usize) -> Result<AmountUnit, Hl7Error> {
    let allowed = "263890^MDC_DIM_MILLI_G, 263892^MDC_DIM_MICRO_G, 262880^MDC_DIM_X_INTL_UNIT or mg, mcg, units, mmol, mEq";
    match segment.component(field, 1).as_str() {
        "263890" => Ok(AmountUnit::Milligram),
        "263892" => Ok(AmountUnit::Microgram),
        "262880" => Ok(AmountUnit::Unit),
        code => code
            .parse::<AmountUnit>()
            .map_err(|_| segment.invalid(field, "the drug amount's unit", allowed)),
    }
}

/// The pump's first judgement of an order, before the therapy core and the
/// drug library see it: is it for this pump, new, and still valid?
pub fn screen(
    order: &ProposedOrder,
    pump_id: &str,
    now: i64,
    seen: &mut crate::seen::Seen,
) -> Result<(), Refusal> {
    if order.pump_id != pump_id {
        return Err(Refusal::OtherPump(order.pump_id.clone()));
    }
    if now >= order.expires_at {
        return Err(Refusal::Expired);
    }
    if !seen.first_time(&order.order_id) {
        return Err(Refusal::Replayed);
    }
    Ok(())
}

/// The reason of a refusal as ERR-8 text, and the code of RRG's MSA-1
/// (AR: will not be done; AE: could not be read).
pub fn refusal_text(refusal: &Refusal) -> (&'static str, String) {
    match refusal {
        Refusal::OtherPump(other) => ("AR", format!("the order is for pump {other}, not this one")),
        Refusal::Replayed => (
            "AR",
            "an order with this number was already received".into(),
        ),
        Refusal::Expired => ("AR", "the order expired before it reached the pump".into()),
        Refusal::LibraryCheck(why) => ("AR", format!("the drug library refused it: {why}")),
        Refusal::Busy => (
            "AR",
            "the pump holds a program: the nurse must end it first".into(),
        ),
        Refusal::Declined => ("AR", "the nurse declined it on the pump".into()),
        Refusal::Unavailable => (
            "AR",
            "the pump cannot show orders now (its app is not reachable)".into(),
        ),
        Refusal::NotShown => (
            "AR",
            "this pump's screen does not take orders: program it at the bedside".into(),
        ),
        Refusal::Malformed(why) => ("AE", format!("the order could not be read: {why}")),
    }
}

/// RRG^O16: the pump's answer to order `order_id` (message
/// `acknowledged`): AA when the nurse confirmed it on the pump (it is
/// loaded; she starts it), or AR/AE with the reason.
pub fn order_answer(
    sender: &Sender,
    acknowledged: &str,
    order_id: &str,
    refusal: Option<&Refusal>,
    at: i64,
    control_id: &str,
) -> Message {
    let mut segments = vec![sender.header(["RRG", "O16", "RRG_O16"], control_id, at, PROFILE_RRG)];
    match refusal {
        None => segments.push(Segment::new("MSA").set(1, &["AA"]).set(2, &[acknowledged])),
        Some(refusal) => {
            let (code, text) = refusal_text(refusal);
            segments.push(Segment::new("MSA").set(1, &[code]).set(2, &[acknowledged]));
            segments.push(
                Segment::new("ERR")
                    .set(3, &["207", "Application internal error", "HL70357"])
                    .set(4, &["E"])
                    .set(8, &[&text]),
            );
        }
    }
    segments.push(Segment::new("ORC").set(1, &["RE"]).set(2, &[order_id]));
    Message::new(segments)
}
