# Perfuse touchscreen texts, English. Every message here must exist in every
# other locale file (a test checks). Numbers arrive already formatted.

## Frame: on every screen
frame-version = Software { $version }
frame-library = Library { $version }
frame-no-library = No drug library
review-no-library = No drug library: basic infusions only
frame-care-area = Care area { $name }
frame-locked = Screen locked

## Actions
action-next = Next
action-back = Back
action-cancel = Cancel
action-start = Start infusion
action-pause = Pause
action-resume = Resume
action-stop = Stop
action-titrate = Titrate
action-bolus = Bolus
action-secondary = Secondary
action-new-program = New infusion
action-history = History
action-settings = Settings
action-silence = Silence alarm
action-acknowledge = Acknowledge
action-confirm-override = Confirm override
action-discard = Discard program
action-resume-interrupted = Resume this program
action-lock = Lock screen
action-unlock = Unlock
action-home = Home
interrupted-steps = in { $count } stages
start-later = Start later
start-later-title = When should it start?
start-later-short = Start later
start-later-standby = On my command (standby)
start-later-in = By itself in { $duration }
start-later-note = Loaded and checked now. Standby waits for Start (a reminder every 30 min); a delayed start begins by itself unless an alarm stops the flow.
state-standby = Standby: touch Start when ready
state-standby-short = Standby
state-starts-in = Starts by itself in { $minutes } min
action-syringe = Syringe
home-syringe = Syringe
home-syringe-confirmed = { $name }
home-syringe-to-confirm = { $name } (to confirm at the next infusion)
syringe-title = Which syringe is loaded?
syringe-short = Syringe
syringe-option = { $name } (up to { $max })
syringe-note = Touch the size and brand of the syringe in the pump. The pump measures every volume by it: a wrong choice gives a wrong dose.
action-clear = Clear

## Start-up
startup-title = Starting up
startup-step-platform = Pump
startup-step-library = Drug library
startup-step-supervisor = Safety supervisor
startup-step-storage = Event log
startup-passed = passed
startup-failed = failed
startup-running = checking

## Platform not verified
notverified-title = Platform not verified: infusion is not possible
notverified-short = No infusion possible
notverified-what-to-do = What to do
notverified-why = Why
notverified-identity-missing = The board identity EEPROM gives no { $field }: is the pump's carrier board fitted?
notverified-identity-invalid = The board identity EEPROM's { $field } is “{ $value }”, which is not valid.
notverified-unknown-hardware = Unknown hardware: “{ $vendor } { $product }” (product { $code }) is not a platform this software supports.
notverified-unsupported-revision = { $platform } board revision { $revision } is not supported (supported: { $first } to { $last }).
notverified-profile-missing = No mechanism profile could be read at { $path }.
notverified-profile-unsigned = The mechanism profile has no signature file beside it.
notverified-profile-signature-malformed = The mechanism profile's signature file is not valid.
notverified-profile-untrusted = The mechanism profile is signed with key “{ $key }”, which this pump does not trust.
notverified-profile-mismatch = The mechanism profile does not match its signature by key “{ $key }”: it was changed after signing, or signed by another key.
notverified-profile-malformed = The mechanism profile is not well-formed.
notverified-profile-invalid = { $count ->
    [one] The mechanism profile has one problem.
   *[other] The mechanism profile has { $count } problems.
}
notverified-profile-other-platform = The mechanism profile is for { $profile } ({ $mechanism }), but this hardware is a { $hardware }.
notverified-profile-other-revision = The mechanism profile { $profile } does not cover board revision { $revision }.
notverified-action-board = Do not use this pump. Send it to biomedical engineering: the carrier board is missing, damaged or not a Perfuse board.
notverified-action-software = Do not use this pump. Biomedical engineering must install software that supports this board revision.
notverified-action-profile = Do not use this pump. Biomedical engineering must install the signed mechanism profile made for this platform.
notverified-by-controller = The control thread refused this platform at its start.
notverified-details = The full details are in the boot log.
mechanism-syringe = syringe pump
mechanism-volumetric = volumetric pump

## Home
home-title = Ready
home-no-program = No infusion programmed: touch New infusion to program one
library-keys-unreadable = The pump's trusted keys cannot be read, so no drug library can be checked.
library-unreadable = No drug library could be read at { $path }.
library-malformed = The drug library file is not well-formed.
library-unsupported-format = The drug library is format { $found }; this pump reads format { $supported }.
library-invalid = { $count ->
    [one] The drug library has one problem.
   *[other] The drug library has { $count } problems.
}
library-unsigned = The drug library is not signed.
library-signature-malformed = The drug library's signature file is not valid.
library-untrusted = The drug library is signed with key “{ $key }”, which this pump does not trust.
library-mismatch = The drug library does not match its signature by key “{ $key }”: it was changed after signing.
library-not-yet-effective = The drug library takes effect on { $effective }; the pump's date is { $today }.
home-library = { $name } { $version }
home-library-last-good = { $name } { $version } (the last good library)
home-library-none = None: basic infusions only
home-supervisor-connected = connected
home-care-area = Care area
home-library-last-good-note = The new drug library was refused. { $reason } The last good library is in use: tell pharmacy.
home-library-none-note = No drug library can be used. { $reason } Only basic infusions (mL/h, within the pump's limits) can be programmed: call pharmacy or biomedical engineering.

## Program kinds
kind-primary = New infusion
kind-secondary = Secondary infusion
kind-bolus = Bolus
kind-titration = Titration

## Steps
step-care-area = Care area
step-drug = Drug
step-concentration = Concentration
step-loading = Loading dose
step-loading-dose = Loading dose
step-loading-duration = Loading dose given over
step-dose = Dose
step-rate = Rate
step-bolus-dose = Bolus dose
step-bolus-volume = Bolus volume
step-weight = Patient weight
step-height = Patient height
step-duration = Given over
step-volume = Volume to be infused
step-review = Review
step-position = Step { $index } of { $count }

## Choices
choice-basic = Basic infusion (mL/h, no drug)
choice-loading-no = No loading dose
choice-loading-yes = Loading dose first
choice-search = Search drug
concentration-option = { $amount } in { $volume } ({ $strength })

## Limits, as typed and on the review
limit-within = Within limits
limit-soft-max = Above the soft maximum of { $limit } { $unit }
limit-soft-min = Below the soft minimum of { $limit } { $unit }
limit-hard-max = Above the hard maximum of { $limit } { $unit }: not allowed
limit-hard-min = Below the hard minimum of { $limit } { $unit }: not allowed
limit-range = Limits { $min } to { $max } { $unit }
limit-max-only = Maximum { $max } { $unit }

## Errors of typed input
error-not-a-number = Enter a number with digits and at most one decimal point
error-missing-leading-zero = Put a zero before the decimal point
error-incomplete = Finish the number after the decimal point, or remove the point
error-too-many-digits = Too many digits: at most { $integer } before and { $decimals } after the decimal point
error-out-of-range = { $value } { $unit } is out of range: allowed { $min } to { $max } { $unit }
error-nothing-entered = Enter a value first
error-key-second-point = A number has only one decimal point
error-key-leading-zero = A number does not start with 0 unless a decimal point follows
error-key-too-many-digits = No more digits before the decimal point
error-key-too-many-decimals = No more digits after the decimal point
error-unknown-choice = That option is no longer on the list
error-refused = The pump refused this now: { $detail }
refused-queue-full = The pump is busy and did not take that: try again
refused-control-stopped = The pump's control has stopped: do not use this pump, call biomedical engineering
refused-platform-not-verified = The platform is not verified: no infusion is possible
refused-not-exact = The pump cannot give this value exactly: enter it with fewer decimals
refused-backlight = The brightness cannot be set ({ $detail })
refused-nothing-left = Nothing is left of this program: discard it
refused-cannot-resume = This program cannot be resumed here: program it again
refused-blocked = The program cannot start: { $reasons }
refused-override-missing = Confirm each value beyond a soft limit first: { $values }
command-load = loading this program
command-start = starting the infusion
command-pause = pausing
command-resume = resuming
command-stop = stopping the program
command-titrate = changing the rate
command-bolus = a bolus
command-secondary = a secondary infusion
command-acknowledge = acknowledging the alarms
command-silence = silencing the alarms
command-load-syringe = changing the syringe (only with no program loaded)
command-standby = waiting to start later (only a program loaded and not started, in 1 min to 24 h)
error-above-container = { $volume } mL is more than the loaded syringe holds: at most { $capacity } mL
error-finer-than-resolution = { $value } { $unit } is finer than the pump sets it: use steps of { $step } { $unit }
error-incompatible-units = { $from } cannot be converted to { $to }: they measure different things
error-unknown-unit = "{ $text }" is not a unit the pump knows: use { $allowed }
error-non-positive-concentration = The concentration needs a drug amount and a volume above zero
error-needs-weight = This dose is per kg: enter the patient's weight
error-needs-weight-and-height = This dose is per m²: enter the patient's weight and height
error-needs-drug = Dosing by amount needs a drug with a concentration; a basic infusion is programmed in mL/h or as a volume over a time
error-loading-exceeds-volume = The volume to be infused, { $vtbi } mL, must be larger than the loading volume, { $loading } mL
error-overflow = The values are far outside anything a pump can deliver: the calculation overflowed
blocker-unit-mismatch = This entry is dosed in { $expected }; { $entered } cannot be used for it
blocker-concentration-not-listed = { $concentration } is not a concentration of this entry, and it allows no custom concentration
blocker-concentration-outside = Custom concentration { $value } is outside the allowed { $min } to { $max }
blocker-unknown-care-area = Care area "{ $id }" is not in the active drug library
blocker-unknown-entry = Entry "{ $id }" is not in this care area of the active drug library
mismatch-fluid = { $drug } is a fluid programmed in mL/h, without a concentration
mismatch-needs-concentration = { $drug } needs its concentration
mismatch-continuous = { $drug } is a continuous infusion dosed in { $unit }
mismatch-dose-not-rate = { $drug } is programmed by dose in { $unit }: enter the dose, and the pump calculates the rate
mismatch-intermittent = { $drug } is an intermittent dose: enter the dose in { $unit } and the time to give it over
mismatch-no-loading-dose = The library gives { $drug } no loading dose
mismatch-basic-has-no-drug = A basic infusion has no drug: pick the drug from the library
mismatch-no-bolus = The library allows no bolus of { $drug }
mismatch-no-kvo = { $drug } never keeps the vein open at its end: its KVO flow would go on dosing
mismatch-no-kvo-in-area = Care area { $area } keeps no vein open: programs stop at their end
mismatch-kvo-above = KVO at { $rate } is above the { $max } of care area { $area }
error-detail = { $detail }

## Review
review-infused-before = Infused before
review-to-give = To infuse now
review-rest-to-give = Rest, as programmed
review-title = Check every value before starting
review-override = Beyond a soft limit: confirm to continue
review-override-confirmed = Override confirmed
review-blocked = Cannot start
review-ready = Ready to start
review-drug = Drug
review-concentration = Concentration
review-rate = Rate
review-volume = Volume to be infused
review-duration = Time
review-weight = Weight
review-height = Height
review-body-surface = Body surface
review-care-area = Care area
review-runs-for = Runs for
review-at-end = At the end
rate-by-steps = Stages
step-step-rate = Stage { $number }: rate
step-step-volume = Stage { $number }: volume
step-more-steps = After stage { $number }
choice-steps-add = Add stage { $next }
choice-steps-done = Done: review the stages
review-step = Stage { $number }
review-step-value = { $rate } for { $volume }
error-step-count = A program in stages has 1 to { $max } stages, not { $count }
review-end-stop = Stops and alarms: infusion complete
review-end-kvo = Keeps the vein open at { $rate }
review-end-primary = The primary infusion resumes
rate-by-rate = Rate in mL/h
rate-by-time = Volume over time
end-stop = Stop
end-kvo = KVO { $rate }
param-dose-rate = Dose
param-flow-rate = Rate
param-dose-amount = Dose
param-bolus-dose = Bolus dose
param-loading-dose = Loading dose
param-duration = Duration
param-vtbi = Volume to be infused

## Running
running-rate = Rate
running-dose = Dose
running-vtbi-left = Volume left
running-infused = Infused
running-time-left = Time left
running-pressure = Pressure
running-basic = Basic infusion
duration-hours-minutes = { $hours } h { $minutes } min

## Pump states
state-self-test = Self-test
state-platform-rejected = Platform rejected
state-idle = Idle
state-ready = Programmed, not started
state-delivering = Infusing
state-keep-vein-open = Keep vein open
state-paused = Paused
state-alarm-stopped = Stopped by an alarm
state-stopped-by = Stopped: { $cause }
state-completed = Infusion complete
state-fault = Fault: infusion impossible

## Alarms
priority-high = High priority
priority-medium = Medium priority
priority-low = Low priority
alarm-silenced = Silenced: { $seconds } s
alarm-downstream-occlusion = Occlusion below the pump
alarm-downstream-occlusion-do = Check the line below the pump for clamps and kinks, then resume
alarm-upstream-occlusion = Occlusion above the pump
alarm-upstream-occlusion-do = Check the line and container above the pump, then resume
alarm-air-in-line = Air in the line
alarm-air-in-line-do = Remove the air from the line, then resume
alarm-accumulated-air = Air has built up in the line
alarm-accumulated-air-do = Remove the air from the line, then resume
alarm-door-open = Door open
alarm-door-open-do = Close the pump door
alarm-syringe-not-loaded = Syringe or set not loaded
alarm-syringe-not-loaded-do = Load the syringe or set, then resume
alarm-end-of-container = Container empty
alarm-end-of-container-do = Replace the container or stop the infusion
alarm-motor-stall = Pump mechanism stalled
alarm-motor-stall-do = Stop the infusion and take the pump out of service
alarm-driver-fault = Motor driver fault
alarm-driver-fault-do = Stop the infusion and take the pump out of service
alarm-encoder-disagreement = Motor movement does not match the program
alarm-encoder-disagreement-do = Stop the infusion and take the pump out of service
alarm-sensor-fault = Sensor fault
alarm-sensor-fault-do = Stop the infusion and take the pump out of service
alarm-supervisor-trip = The safety supervisor stopped the pump
alarm-supervisor-trip-do = Acknowledge, check the patient, then resume
alarm-infusion-complete = Infusion complete
alarm-infusion-complete-do = Program the next infusion or stop
alarm-near-end = Infusion nearly complete
alarm-near-end-do = Prepare the next container
alarm-keep-vein-open = Keeping the vein open
alarm-keep-vein-open-do = Program the next infusion or stop
alarm-callback-paused = Paused too long
alarm-callback-paused-do = Resume or stop the infusion
alarm-callback-unstarted = Programmed but not started
alarm-callback-unstarted-do = Start or cancel the infusion
alarm-storage-fault = The event log cannot be written
alarm-storage-fault-do = Infusion continues; call biomedical engineering

## Interrupted infusion
interrupted-title = Infusion interrupted
interrupted-program = Program
interrupted-infused = Already infused
interrupted-left = Volume left
interrupted-when = Stopped at
interrupted-why = Why
interrupted-no-resume = This program was not set up on this screen with the drug library (or there is no library): discard it and program it again
interrupted-check = Resuming checks the program again against the current drug library
interrupted-why-shutdown = The pump was switched off during the infusion
interrupted-why-unexpected = The pump stopped unexpectedly (crash, reset or power loss)
interrupted-why-supervisor = The safety supervisor stopped the pump, then it restarted
interrupted-why-alarm = The pump stopped unexpectedly; last alarm: { $alarm }

## History, settings, lock
menu-history = History
menu-settings = Settings
menu-lock = Lock screen
menu-close = Close
menu-more = History and settings
filter-all = All
filter-alarms = Alarms
filter-programs = Programs
filter-interactions = Touches
history-empty = No events recorded yet
history-unreadable = The event log cannot be read: { $detail }
pin-prompt = Enter the settings PIN
pin-wrong = Wrong PIN
pin-enter = Enter
settings-language = Language
settings-brightness = Screen brightness
settings-dimmer = −
settings-brighter = +
settings-volume = Alarm volume
settings-volume-level = { $level } of { $max }
settings-volume-note = High-priority alarms always sound at { $floor } or louder
settings-quieter = −
settings-louder = +
biomed-platform = Platform
biomed-mechanism = Mechanism
biomed-rates = Rate range
biomed-library = Drug library
biomed-supervisor = Safety supervisor socket
biomed-software = Software
locked-text = Screen locked. Alarms can still be silenced and acknowledged.
unlock = Unlock
unlock-confirm = Press to confirm unlock
event-power-on = Power on
event-power-off = Power off
event-self-test = Self-test
event-platform-check = Platform check
event-library-activated = Library activated
event-library-refused = Library refused
event-program-started = Program started
event-program-changed = Program changed
event-program-paused = Paused
event-program-resumed = Resumed
event-program-stopped = Stopped
event-program-completed = Completed
event-alarm-raised = Alarm
event-alarm-silenced = Alarm silenced
event-alarm-acknowledged = Alarm acknowledged
event-alarm-cleared = Alarm cleared
event-supervisor-trip = Supervisor stop
event-soft-limit-override = Soft limit override
event-interaction = Touch
event-events-dropped = Events dropped
event-storage-fault = Storage fault
menu-more-short = More
keyboard-done = Show list
review-delivered = the pump's rounded rate gives { $value }
