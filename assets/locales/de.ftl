# Perfuse-Bildschirmtexte, Deutsch. Jede Nachricht muss in jeder anderen
# Sprachdatei stehen (ein Test prüft das). Zahlen kommen fertig formatiert.

## Rahmen: auf jedem Bildschirm
frame-version = Software { $version }
frame-library = Bibliothek { $version }
frame-no-library = Keine Bibliothek
review-no-library = Keine Medikamentenbibliothek: nur Basisinfusionen
frame-care-area = Bereich { $name }
frame-locked = Bildschirm gesperrt

## Aktionen
action-next = Weiter
action-back = Zurück
action-cancel = Abbrechen
action-start = Infusion starten
action-pause = Pause
action-resume = Fortsetzen
action-stop = Stopp
action-titrate = Titrieren
action-bolus = Bolus
# Hyphenated: the running page's button is too narrow for the whole word.
action-secondary = Sekundär-{"\u000A"}infusion
action-new-program = Neue Infusion
action-history = Verlauf
action-settings = Einstellungen
action-silence = Alarm stummschalten
action-acknowledge = Bestätigen
action-confirm-override = Überschreitung bestätigen
action-discard = Programm verwerfen
action-resume-interrupted = Dieses Programm fortsetzen
action-lock = Bildschirm sperren
action-unlock = Entsperren
action-home = Start
interrupted-steps = in { $count } Stufen
start-later = Später starten
start-later-title = Wann soll sie starten?
start-later-short = Später starten
start-later-standby = Auf meinen Befehl (Standby)
start-later-in = Von selbst in { $duration }
start-later-note = Jetzt geladen und geprüft. Standby wartet auf Start (Erinnerung alle 30 min); ein verzögerter Start beginnt von selbst, außer ein Alarm stoppt den Fluss.
state-standby = Standby: Start berühren, wenn bereit
state-standby-short = Standby
state-starts-in = Startet von selbst in { $minutes } min
action-syringe = Spritze
home-syringe = Spritze
home-syringe-confirmed = { $name }
home-syringe-to-confirm = { $name } (bei der nächsten Infusion bestätigen)
syringe-title = Welche Spritze ist eingelegt?
syringe-short = Spritze
syringe-option = { $name } (bis { $max })
syringe-note = Größe und Marke der eingelegten Spritze berühren. Die Pumpe misst jedes Volumen danach: eine falsche Wahl ergibt eine falsche Dosis.
action-clear = Löschen

## Start
startup-title = Pumpe startet
startup-step-platform = Pumpe
startup-step-library = Medikamentenbibliothek
startup-step-supervisor = Sicherheitsüberwachung
startup-step-storage = Ereignisprotokoll
startup-passed = bestanden
startup-failed = fehlgeschlagen
startup-running = wird geprüft

## Plattform nicht verifiziert
notverified-title = Plattform nicht verifiziert: keine Infusion möglich
notverified-short = Keine Infusion möglich
notverified-what-to-do = Was zu tun ist
notverified-why = Grund
notverified-identity-missing = Das Kennungs-EEPROM der Platine liefert kein Feld { $field }: Ist die Trägerplatine der Pumpe eingebaut?
notverified-identity-invalid = Das Feld { $field } im Kennungs-EEPROM der Platine lautet „{ $value }“ und ist ungültig.
notverified-unknown-hardware = Unbekannte Hardware: „{ $vendor } { $product }“ (Produkt { $code }) ist keine Plattform, die diese Software unterstützt.
notverified-unsupported-revision = Die Platinenrevision { $revision } von { $platform } wird nicht unterstützt (unterstützt: { $first } bis { $last }).
notverified-profile-missing = Unter { $path } konnte kein Mechanikprofil gelesen werden.
notverified-profile-unsigned = Neben dem Mechanikprofil liegt keine Signaturdatei.
notverified-profile-signature-malformed = Die Signaturdatei des Mechanikprofils ist ungültig.
notverified-profile-untrusted = Das Mechanikprofil ist mit dem Schlüssel „{ $key }“ signiert, dem diese Pumpe nicht vertraut.
notverified-profile-mismatch = Das Mechanikprofil passt nicht zu seiner Signatur mit dem Schlüssel „{ $key }“: Es wurde nach dem Signieren geändert oder mit einem anderen Schlüssel signiert.
notverified-profile-malformed = Das Mechanikprofil ist nicht wohlgeformt.
notverified-profile-invalid = { $count ->
    [one] Das Mechanikprofil enthält einen Fehler.
   *[other] Das Mechanikprofil enthält { $count } Fehler.
}
notverified-profile-other-platform = Das Mechanikprofil ist für { $profile } ({ $mechanism }), diese Hardware ist aber eine { $hardware }.
notverified-profile-other-revision = Das Mechanikprofil { $profile } deckt die Platinenrevision { $revision } nicht ab.
notverified-action-board = Diese Pumpe nicht verwenden. Senden Sie sie an die Medizintechnik: Die Trägerplatine fehlt, ist beschädigt oder keine Perfuse-Platine.
notverified-action-software = Diese Pumpe nicht verwenden. Die Medizintechnik muss Software installieren, die diese Platinenrevision unterstützt.
notverified-action-profile = Diese Pumpe nicht verwenden. Die Medizintechnik muss das für diese Plattform erstellte, signierte Mechanikprofil installieren.
notverified-by-controller = Der Steuerungs-Thread hat diese Plattform beim Start abgelehnt.
notverified-details = Alle Einzelheiten stehen im Startprotokoll.
mechanism-syringe = Spritzenpumpe
mechanism-volumetric = Volumenpumpe

## Start
home-title = Bereit
home-no-program = Keine Infusion programmiert: Neue Infusion berühren, um eine zu programmieren
library-keys-unreadable = Die vertrauenswürdigen Schlüssel der Pumpe sind nicht lesbar, daher kann keine Medikamentenbibliothek geprüft werden.
library-unreadable = Unter { $path } konnte keine Medikamentenbibliothek gelesen werden.
library-malformed = Die Datei der Medikamentenbibliothek ist nicht wohlgeformt.
library-unsupported-format = Die Medikamentenbibliothek hat das Format { $found }; diese Pumpe liest das Format { $supported }.
library-invalid = { $count ->
    [one] Die Medikamentenbibliothek enthält einen Fehler.
   *[other] Die Medikamentenbibliothek enthält { $count } Fehler.
}
library-unsigned = Die Medikamentenbibliothek ist nicht signiert.
library-signature-malformed = Die Signaturdatei der Medikamentenbibliothek ist ungültig.
library-untrusted = Die Medikamentenbibliothek ist mit dem Schlüssel „{ $key }“ signiert, dem diese Pumpe nicht vertraut.
library-mismatch = Die Medikamentenbibliothek passt nicht zu ihrer Signatur mit dem Schlüssel „{ $key }“: Sie wurde nach dem Signieren geändert.
library-not-yet-effective = Die Medikamentenbibliothek gilt ab { $effective }; das Datum der Pumpe ist { $today }.
home-library = { $name } { $version }
home-library-last-good = { $name } { $version } (die letzte gültige Bibliothek)
home-library-none = Keine: nur Basisinfusionen
home-supervisor-connected = verbunden
home-care-area = Bereich
home-library-last-good-note = Die neue Medikamentenbibliothek wurde abgelehnt. { $reason } Die letzte gültige Bibliothek ist in Gebrauch: Apotheke informieren.
home-library-none-note = Keine Medikamentenbibliothek verwendbar. { $reason } Nur Basisinfusionen (mL/h, in den Grenzen der Pumpe) sind programmierbar: Apotheke oder Medizintechnik rufen.

## Programmarten
kind-primary = Neue Infusion
kind-secondary = Sekundärinfusion
kind-bolus = Bolus
kind-titration = Titration

## Schritte
step-care-area = Pflegebereich
step-drug = Medikament
step-concentration = Konzentration
step-loading = Initialdosis
step-loading-dose = Initialdosis
step-loading-duration = Initialdosis über
step-dose = Dosis
step-rate = Rate
step-bolus-dose = Bolusdosis
step-bolus-volume = Bolusvolumen
step-weight = Gewicht des Patienten
step-height = Größe des Patienten
step-duration = Gegeben über
step-volume = Zu infundierendes Volumen
step-review = Überprüfung
step-position = Schritt { $index } von { $count }

## Auswahl
choice-basic = Basisinfusion (mL/h, ohne Medikament)
choice-loading-no = Keine Initialdosis
choice-loading-yes = Zuerst Initialdosis
choice-search = Medikament suchen
concentration-option = { $amount } in { $volume } ({ $strength })

## Grenzen, bei der Eingabe und in der Überprüfung
limit-within = Innerhalb der Grenzen
limit-soft-max = Über dem weichen Maximum von { $limit } { $unit }
limit-soft-min = Unter dem weichen Minimum von { $limit } { $unit }
limit-hard-max = Über dem harten Maximum von { $limit } { $unit }: nicht erlaubt
limit-hard-min = Unter dem harten Minimum von { $limit } { $unit }: nicht erlaubt
limit-range = Grenzen { $min } bis { $max } { $unit }
limit-max-only = Maximum { $max } { $unit }

## Eingabefehler
error-not-a-number = Geben Sie eine Zahl aus Ziffern mit höchstens einem Dezimalkomma ein
error-missing-leading-zero = Setzen Sie eine Null vor das Dezimalkomma
error-incomplete = Vervollständigen Sie die Zahl nach dem Komma oder entfernen Sie das Komma
error-too-many-digits = Zu viele Ziffern: höchstens { $integer } vor und { $decimals } nach dem Komma
error-out-of-range = { $value } { $unit } liegt außerhalb des Bereichs: erlaubt { $min } bis { $max } { $unit }
error-nothing-entered = Geben Sie zuerst einen Wert ein
error-key-second-point = Eine Zahl hat nur ein Dezimalkomma
error-key-leading-zero = Eine Zahl beginnt nur mit 0, wenn ein Komma folgt
error-key-too-many-digits = Keine weiteren Ziffern vor dem Komma
error-key-too-many-decimals = Keine weiteren Ziffern nach dem Komma
error-unknown-choice = Diese Auswahl steht nicht mehr in der Liste
error-refused = Die Pumpe hat das jetzt abgelehnt: { $detail }
refused-queue-full = Die Pumpe ist beschäftigt und hat das nicht angenommen: erneut versuchen
refused-control-stopped = Die Steuerung der Pumpe ist angehalten: Pumpe nicht verwenden, Medizintechnik rufen
refused-platform-not-verified = Die Plattform ist nicht verifiziert: keine Infusion möglich
refused-not-exact = Die Pumpe kann diesen Wert nicht genau geben: mit weniger Nachkommastellen eingeben
refused-backlight = Die Helligkeit lässt sich nicht einstellen ({ $detail })
refused-nothing-left = Von diesem Programm ist nichts mehr übrig: verwerfen Sie es
refused-cannot-resume = Dieses Programm kann hier nicht fortgesetzt werden: programmieren Sie es neu
refused-blocked = Das Programm kann nicht starten: { $reasons }
refused-override-missing = Bestätigen Sie zuerst jeden Wert jenseits einer weichen Grenze: { $values }
command-load = das Laden dieses Programms
command-start = den Start der Infusion
command-pause = die Pause
command-resume = das Fortsetzen
command-stop = das Beenden des Programms
command-titrate = die Änderung der Rate
command-bolus = einen Bolus
command-secondary = eine Sekundärinfusion
command-acknowledge = das Quittieren der Alarme
command-silence = das Stummschalten der Alarme
command-load-syringe = den Wechsel der Spritze (nur ohne geladenes Programm)
command-standby = das spätere Starten (nur ein geladenes, nicht gestartetes Programm, in 1 min bis 24 h)
error-above-container = { $volume } mL sind mehr, als die eingelegte Spritze fasst: höchstens { $capacity } mL
error-finer-than-resolution = { $value } { $unit } ist feiner, als die Pumpe einstellt: verwenden Sie Schritte von { $step } { $unit }
error-incompatible-units = { $from } lässt sich nicht in { $to } umrechnen: beide messen Verschiedenes
error-unknown-unit = „{ $text }“ ist keine Einheit, die die Pumpe kennt: verwenden Sie { $allowed }
error-non-positive-concentration = Die Konzentration braucht eine Wirkstoffmenge und ein Volumen über null
error-needs-weight = Diese Dosis gilt pro kg: geben Sie das Gewicht des Patienten ein
error-needs-weight-and-height = Diese Dosis gilt pro m²: geben Sie Gewicht und Größe des Patienten ein
error-needs-drug = Eine Dosierung nach Menge braucht ein Medikament mit Konzentration; eine Basisinfusion wird in mL/h oder als Volumen über eine Zeit programmiert
error-loading-exceeds-volume = Das zu infundierende Volumen, { $vtbi } mL, muss größer sein als das Volumen der Aufsättigung, { $loading } mL
error-overflow = Die Werte liegen weit außerhalb dessen, was eine Pumpe fördern kann: die Berechnung ist übergelaufen
blocker-unit-mismatch = Dieser Eintrag wird in { $expected } dosiert; { $entered } ist dafür nicht zulässig
blocker-concentration-not-listed = { $concentration } ist keine Konzentration dieses Eintrags, und er erlaubt keine eigene Konzentration
blocker-concentration-outside = Die eigene Konzentration { $value } liegt außerhalb des erlaubten Bereichs { $min } bis { $max }
blocker-unknown-care-area = Der Versorgungsbereich „{ $id }“ ist nicht in der aktiven Medikamentenbibliothek
blocker-unknown-entry = Der Eintrag „{ $id }“ ist nicht in diesem Versorgungsbereich der aktiven Medikamentenbibliothek
mismatch-fluid = { $drug } ist eine Lösung, die in mL/h ohne Konzentration programmiert wird
mismatch-needs-concentration = { $drug } braucht seine Konzentration
mismatch-continuous = { $drug } ist eine Dauerinfusion, dosiert in { $unit }
mismatch-dose-not-rate = { $drug } wird nach Dosis in { $unit } programmiert: geben Sie die Dosis ein, die Pumpe berechnet die Rate
mismatch-intermittent = { $drug } ist eine Einzeldosis: geben Sie die Dosis in { $unit } und die Dauer der Gabe ein
mismatch-no-loading-dose = Die Bibliothek sieht für { $drug } keine Aufsättigungsdosis vor
mismatch-basic-has-no-drug = Eine Basisinfusion hat kein Medikament: wählen Sie das Medikament aus der Bibliothek
mismatch-no-bolus = Die Bibliothek erlaubt keinen Bolus von { $drug }
mismatch-no-kvo = { $drug } hält die Vene am Ende nie offen: der KVO-Fluss würde weiter dosieren
mismatch-no-kvo-in-area = Pflegebereich { $area } hält keine Vene offen: Programme stoppen an ihrem Ende
mismatch-kvo-above = KVO mit { $rate } liegt über den { $max } von Pflegebereich { $area }
error-detail = { $detail }

## Überprüfung
review-infused-before = Bereits infundiert
review-to-give = Jetzt zu infundieren
review-rest-to-give = Rest, wie programmiert
review-title = Prüfen Sie jeden Wert vor dem Start
review-override = Über einer weichen Grenze: zum Fortfahren bestätigen
review-override-confirmed = Überschreitung bestätigt
review-blocked = Start nicht möglich
review-ready = Bereit zum Start
review-drug = Medikament
review-concentration = Konzentration
review-rate = Rate
review-volume = Zu infundierendes Volumen
review-duration = Zeit
review-weight = Gewicht
review-height = Größe
review-body-surface = Körperoberfläche
review-care-area = Pflegebereich
review-runs-for = Laufzeit
review-at-end = Am Ende
rate-by-steps = Stufen
step-step-rate = Stufe { $number }: Rate
step-step-volume = Stufe { $number }: Volumen
step-more-steps = Nach Stufe { $number }
choice-steps-add = Stufe { $next } hinzufügen
choice-steps-done = Fertig: Stufen prüfen
review-step = Stufe { $number }
review-step-value = { $rate } für { $volume }
error-step-count = Ein Stufenprogramm hat 1 bis { $max } Stufen, nicht { $count }
review-end-stop = Stoppt mit Alarm: Infusion beendet
review-end-kvo = Hält die Vene offen mit { $rate }
review-end-primary = Die Primärinfusion läuft weiter
rate-by-rate = Rate in mL/h
rate-by-time = Volumen über Zeit
end-stop = Stoppen
end-kvo = KVO { $rate }
param-dose-rate = Dosis
param-flow-rate = Rate
param-dose-amount = Dosis
param-bolus-dose = Bolusdosis
param-loading-dose = Initialdosis
param-duration = Dauer
param-vtbi = Zu infundierendes Volumen

## Laufende Infusion
running-rate = Rate
running-dose = Dosis
running-vtbi-left = Restvolumen
running-infused = Infundiert
running-time-left = Restzeit
running-pressure = Druck
running-basic = Basisinfusion
duration-hours-minutes = { $hours } h { $minutes } min

## Pumpenzustände
state-self-test = Selbsttest
state-platform-rejected = Plattform abgelehnt
state-idle = Bereit
state-ready = Programmiert, nicht gestartet
state-delivering = Infusion läuft
state-keep-vein-open = Venenoffenhaltung
state-paused = Pausiert
state-alarm-stopped = Durch Alarm gestoppt
state-stopped-by = Gestoppt: { $cause }
state-completed = Infusion beendet
state-fault = Fehler: keine Infusion möglich

## Alarme
priority-high = Hohe Priorität
priority-medium = Mittlere Priorität
priority-low = Niedrige Priorität
alarm-silenced = Stumm: { $seconds } s
alarm-downstream-occlusion = Verschluss unterhalb der Pumpe
alarm-downstream-occlusion-do = Leitung unterhalb der Pumpe auf Klemmen und Knicke prüfen, dann fortsetzen
alarm-upstream-occlusion = Verschluss oberhalb der Pumpe
alarm-upstream-occlusion-do = Leitung und Behälter oberhalb der Pumpe prüfen, dann fortsetzen
alarm-air-in-line = Luft in der Leitung
alarm-air-in-line-do = Luft aus der Leitung entfernen, dann fortsetzen
alarm-accumulated-air = Luft hat sich in der Leitung angesammelt
alarm-accumulated-air-do = Luft aus der Leitung entfernen, dann fortsetzen
alarm-door-open = Tür offen
alarm-door-open-do = Pumpentür schließen
alarm-syringe-not-loaded = Spritze oder Set nicht eingelegt
alarm-syringe-not-loaded-do = Spritze oder Set einlegen, dann fortsetzen
alarm-end-of-container = Behälter leer
alarm-end-of-container-do = Behälter wechseln oder Infusion beenden
alarm-motor-stall = Pumpenmechanik blockiert
alarm-motor-stall-do = Infusion beenden und Pumpe außer Betrieb nehmen
alarm-driver-fault = Fehler im Motortreiber
alarm-driver-fault-do = Infusion beenden und Pumpe außer Betrieb nehmen
alarm-encoder-disagreement = Motorbewegung passt nicht zum Programm
alarm-encoder-disagreement-do = Infusion beenden und Pumpe außer Betrieb nehmen
alarm-sensor-fault = Sensorfehler
alarm-sensor-fault-do = Infusion beenden und Pumpe außer Betrieb nehmen
alarm-supervisor-trip = Die Sicherheitsüberwachung hat die Pumpe gestoppt
alarm-supervisor-trip-do = Bestätigen, Patienten prüfen, dann fortsetzen
alarm-infusion-complete = Infusion beendet
alarm-infusion-complete-do = Nächste Infusion programmieren oder beenden
alarm-near-end = Infusion fast beendet
alarm-near-end-do = Nächsten Behälter vorbereiten
alarm-keep-vein-open = Vene wird offen gehalten
alarm-keep-vein-open-do = Nächste Infusion programmieren oder beenden
alarm-callback-paused = Zu lange pausiert
alarm-callback-paused-do = Infusion fortsetzen oder beenden
alarm-callback-unstarted = Programmiert, aber nicht gestartet
alarm-callback-unstarted-do = Infusion starten oder abbrechen
alarm-storage-fault = Das Ereignisprotokoll kann nicht geschrieben werden
alarm-storage-fault-do = Infusion läuft weiter; Medizintechnik rufen

## Unterbrochene Infusion
interrupted-title = Infusion unterbrochen
interrupted-program = Programm
interrupted-infused = Bereits infundiert
interrupted-left = Restvolumen
interrupted-when = Gestoppt um
interrupted-why = Grund
interrupted-no-resume = Dieses Programm wurde nicht auf diesem Bildschirm mit der Medikamentenbibliothek erstellt (oder es gibt keine Bibliothek): verwerfen und neu programmieren
interrupted-check = Beim Fortsetzen wird das Programm erneut gegen die aktuelle Medikamentenbibliothek geprüft
interrupted-why-shutdown = Die Pumpe wurde während der Infusion ausgeschaltet
interrupted-why-unexpected = Die Pumpe hat unerwartet gestoppt (Absturz, Neustart oder Stromausfall)
interrupted-why-supervisor = Die Sicherheitsüberwachung hat die Pumpe gestoppt, dann startete sie neu
interrupted-why-alarm = Die Pumpe hat unerwartet gestoppt; letzter Alarm: { $alarm }

## Verlauf, Einstellungen, Sperre
menu-history = Verlauf
menu-settings = Einstellungen
menu-lock = Bildschirm sperren
menu-close = Schließen
menu-more = Verlauf und Einstellungen
filter-all = Alle
filter-alarms = Alarme
filter-programs = Programme
filter-interactions = Berührungen
history-empty = Noch keine Ereignisse aufgezeichnet
history-unreadable = Das Ereignisprotokoll kann nicht gelesen werden: { $detail }
pin-prompt = Einstellungs-PIN eingeben
pin-wrong = Falsche PIN
pin-enter = Eingabe
settings-language = Sprache
settings-brightness = Bildschirmhelligkeit
settings-dimmer = −
settings-brighter = +
settings-volume = Alarmlautstärke
settings-volume-level = { $level } von { $max }
settings-volume-note = Alarme hoher Priorität ertönen immer mit { $floor } oder lauter
settings-quieter = −
settings-louder = +
biomed-platform = Plattform
biomed-mechanism = Mechanik
biomed-rates = Ratenbereich
biomed-library = Medikamentenbibliothek
biomed-supervisor = Socket der Sicherheitsüberwachung
biomed-software = Software
locked-text = Bildschirm gesperrt. Alarme können weiterhin stummgeschaltet und bestätigt werden.
unlock = Entsperren
unlock-confirm = Zum Entsperren bestätigen
event-power-on = Eingeschaltet
event-power-off = Ausgeschaltet
event-self-test = Selbsttest
event-platform-check = Plattformprüfung
event-library-activated = Bibliothek aktiviert
event-library-refused = Bibliothek abgelehnt
event-program-started = Programm gestartet
event-program-changed = Programm geändert
event-program-paused = Pausiert
event-program-resumed = Fortgesetzt
event-program-stopped = Gestoppt
event-program-completed = Beendet
event-alarm-raised = Alarm
event-alarm-silenced = Alarm stumm
event-alarm-acknowledged = Alarm bestätigt
event-alarm-cleared = Alarm beendet
event-supervisor-trip = Stopp durch Überwachung
event-soft-limit-override = Überschreitung weicher Grenze
event-interaction = Berührung
event-events-dropped = Ereignisse verworfen
event-storage-fault = Speicherfehler
menu-more-short = Mehr
keyboard-done = Liste zeigen
review-delivered = die gerundete Pumpenrate ergibt { $value }
