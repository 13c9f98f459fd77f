//! Infusion orders from the hospital on the touchscreen (IHE PCD-03
//! through `perfuse-link`). An order is a proposal, never an instruction:
//!
//! - It is taken only on the home page of a pump that holds no program,
//!   one at a time, once (replays refused) and before it expires; and only
//!   if it passes the drug library in a care area (`workflow::order`).
//!   Otherwise it is refused with the reason, which goes back to the
//!   hospital and shows on the home page.
//! - It shows on its own page for the nurse to compare with the patient
//!   and the label: patient, drug, concentration, dose or rate, weight,
//!   volume, order number and validity. Review opens it as a program on
//!   the review page, where the library's findings and overrides are those
//!   of a typed program; Decline refuses it.
//! - Nothing starts until the nurse presses Start (or Start later) on that
//!   review. Only then is the order answered as confirmed.

use perfuse_link::local::{OrderOutcome, ProposedOrder, Refusal};

use super::*;
use crate::ui::workflow::{ordered_programs, OrderMismatch};

/// Most orders taken from the link per refresh (its queue is bounded too;
/// the rest wait for the next refresh).
const ORDERS_PER_REFRESH: usize = 4;

impl Session {
    /// The order before the nurse, if one is.
    pub fn order(&self) -> Option<&ProposedOrder> {
        self.orders.pending()
    }

    /// The care areas the order passes the library in, each with its
    /// program at the review, and the one chosen (alone, it is chosen
    /// already).
    pub fn order_areas(&self) -> (&[(String, Workflow)], Option<usize>) {
        (&self.order_programs, self.order_area)
    }

    /// Orders from the link, and the expiry of the one shown.
    pub(super) fn follow_orders(&mut self) {
        for _ in 0..ORDERS_PER_REFRESH {
            let Some(order) = self.pump.take_order() else {
                break;
            };
            self.arrive(order);
        }
        let now = self.pump.wall_clock();
        let expired = self
            .orders
            .pending()
            .is_some_and(|order| now >= order.expires_at);
        if expired {
            self.end_order(Refusal::Expired);
        }
    }

    fn arrive(&mut self, order: ProposedOrder) {
        let id = order.order_id.clone();
        let now = self.pump.wall_clock();
        let on_home = matches!(self.screen, Screen::Home);
        let taken = self
            .orders
            .arrive(order, self.snapshot.mode, now)
            .and_then(|()| {
                if on_home {
                    Ok(())
                } else {
                    // Never over a nurse's programming, menu or alarm list.
                    self.orders.decline();
                    Err(Refusal::Busy)
                }
            });
        if let Err(refusal) = taken {
            self.answer_order(&id, OrderOutcome::Refused { refusal });
            return;
        }
        let library = self.programming_library();
        let programs = self
            .orders
            .pending()
            .map(|order| ordered_programs(&library, self.limits, self.care_area.as_deref(), order));
        match programs {
            Some(Ok(programs)) => {
                self.order_area = (programs.len() == 1).then_some(0);
                self.order_programs = programs;
                self.answer_order(&id, OrderOutcome::Shown);
                self.show(Screen::Order);
            }
            Some(Err(mismatch)) => {
                if let Some(order) = self.orders.pending().cloned() {
                    self.end_order_quietly();
                    self.refuse_mismatch(&order, &mismatch);
                }
            }
            None => {}
        }
    }

    /// The order failed the library (`mismatch`): refused with the reason,
    /// told on the page shown.
    fn refuse_mismatch(&mut self, order: &ProposedOrder, mismatch: &OrderMismatch) {
        self.notice = Some(Notice::Refused(self.texts.format(
            "order-refused-note",
            &[
                ("drug", Arg::Text(order.drug.clone())),
                (
                    "reason",
                    Arg::Text(crate::ui::words::order_mismatch_text(&self.texts, mismatch)),
                ),
            ],
        )));
        self.answer_order(
            &order.order_id,
            OrderOutcome::Refused {
                refusal: Refusal::LibraryCheck(mismatch.to_string()),
            },
        );
    }

    /// The order leaves the desk, already answered.
    fn end_order_quietly(&mut self) {
        self.orders.decline();
        self.order_programs.clear();
        self.order_area = None;
        self.order_picking = false;
    }

    /// The answer to order `id`, to the hospital and in the event log.
    fn answer_order(&mut self, id: &str, outcome: OrderOutcome) {
        let (name, detail) = match &outcome {
            OrderOutcome::Shown => ("shown", String::new()),
            OrderOutcome::Confirmed => ("confirmed", String::new()),
            OrderOutcome::Refused { refusal } => ("refused", refusal_detail(refusal)),
        };
        self.recorder.record(Event::Order {
            order: id.to_owned(),
            outcome: name.to_owned(),
            detail,
        });
        self.pump.answer_order(id, outcome);
    }

    /// The order leaves the desk refused (declined by the nurse, or
    /// expired): answered, and the pages that showed it close.
    fn end_order(&mut self, refusal: Refusal) {
        let Some(id) = self.orders.decline() else {
            return;
        };
        let expired = refusal == Refusal::Expired;
        self.order_programs.clear();
        self.order_area = None;
        self.order_picking = false;
        self.answer_order(&id, OrderOutcome::Refused { refusal });
        let showing = match &self.screen {
            Screen::Order => true,
            Screen::Program(programming) | Screen::StartLater(programming) => {
                programming.workflow.is_ordered()
            }
            Screen::Syringe { then } => *then == AfterSyringe::Order,
            Screen::Startup
            | Screen::NotVerified(_)
            | Screen::Home
            | Screen::Running
            | Screen::Interrupted
            | Screen::Menu(_) => false,
        };
        if showing {
            self.show(Screen::Home);
            if expired {
                self.notice = Some(Notice::Refused(self.texts.get("order-expired-note")));
            }
        }
    }

    /// Is the order page showing the care areas to choose from (an order
    /// that passes in several)?
    pub fn order_picking(&self) -> bool {
        self.order_picking
    }

    /// A care area for the order, by its place in `order_areas`: back to
    /// the order, with it.
    pub fn pick_order_area(&mut self, index: usize) {
        self.touch(&format!("order-care-area {index}"));
        if matches!(self.screen, Screen::Order) && index < self.order_programs.len() {
            self.order_area = Some(index);
            self.order_picking = false;
        }
    }

    /// Back from the care areas to the order, none chosen anew.
    pub fn leave_order_areas(&mut self) {
        self.touch("back");
        self.order_picking = false;
    }

    /// Review on the order page: the order as a program, on its review
    /// (on a syringe platform, once the syringe loaded is confirmed).
    pub fn review_order(&mut self) {
        self.touch("review-order");
        if !matches!(self.screen, Screen::Order) {
            return;
        }
        if self.order_area.is_none() {
            self.order_picking = true;
            return;
        }
        if self.ask_for_syringe(AfterSyringe::Order) {
            return;
        }
        self.open_order_review();
    }

    fn open_order_review(&mut self) {
        let program = self
            .order_area
            .and_then(|index| self.order_programs.get(index))
            .map(|(_, workflow)| workflow.clone());
        match program {
            Some(workflow) => self.show(Screen::Program(Box::new(Programming::new(workflow)))),
            None => self.show(Screen::Order),
        }
    }

    /// After the syringe was confirmed for the order: the order checked
    /// again against its limits (it may hold less than the order asks),
    /// then its review; or refused with the reason.
    pub(super) fn review_order_checked(&mut self) {
        let Some(order) = self.orders.pending().cloned() else {
            self.show(Screen::Home);
            return;
        };
        let chosen = self
            .order_area
            .and_then(|index| self.order_programs.get(index))
            .map(|(area, _)| area.clone());
        let library = self.programming_library();
        match ordered_programs(&library, self.limits, chosen.as_deref(), &order) {
            Ok(programs) => {
                self.order_area = (programs.len() == 1).then_some(0);
                self.order_programs = programs;
                self.open_order_review();
            }
            Err(mismatch) => {
                self.show(Screen::Home);
                self.refuse_mismatch(&order, &mismatch);
                self.end_order_quietly();
            }
        }
    }

    /// Decline on the order page.
    pub fn decline_order(&mut self) {
        self.touch("decline-order");
        if matches!(self.screen, Screen::Order) && !self.order_picking {
            self.end_order(Refusal::Declined);
        }
    }

    /// Before an ordered program is loaded: is its order still valid? If
    /// not, it is answered and the pages close (false).
    pub(super) fn order_still_valid(&mut self) -> bool {
        let now = self.pump.wall_clock();
        match self.orders.pending() {
            Some(order) if now < order.expires_at => true,
            Some(_) => {
                self.end_order(Refusal::Expired);
                false
            }
            None => false,
        }
    }

    /// The ordered program was loaded on the nurse's Start: the order is
    /// confirmed, and its care area is the patient's from now on.
    pub(super) fn order_confirmed(&mut self, care_area: Option<&str>) {
        if let Some(id) = self.orders.decline() {
            self.order_programs.clear();
            self.order_area = None;
            self.order_picking = false;
            if let Some(area) = care_area {
                self.care_area = Some(area.to_owned());
            }
            self.answer_order(&id, OrderOutcome::Confirmed);
        }
    }
}

/// The refusal as the event log keeps it.
fn refusal_detail(refusal: &Refusal) -> String {
    match refusal {
        Refusal::OtherPump(pump) => format!("other-pump {pump}"),
        Refusal::Replayed => "replayed".to_owned(),
        Refusal::Expired => "expired".to_owned(),
        Refusal::LibraryCheck(why) => format!("library-check: {why}"),
        Refusal::Busy => "busy".to_owned(),
        Refusal::Declined => "declined".to_owned(),
        Refusal::Unavailable => "unavailable".to_owned(),
        Refusal::NotShown => "not-shown".to_owned(),
        Refusal::Malformed(why) => format!("malformed: {why}"),
    }
}
