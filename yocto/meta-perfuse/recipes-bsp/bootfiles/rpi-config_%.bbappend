# config.txt for the Perfuse carriers on a Raspberry Pi 4 / CM4 (in the
# perfuse distro only).

# SPI0: the TMC5160 stepper driver (CE0) and the MCP3008 pressure ADC (CE1).
ENABLE_SPI_BUS:perfuse = "1"
# I2C1: the DS3231 real-time clock (the carrier overlay declares it).
ENABLE_I2C:perfuse = "1"
# The firmware's rainbow splash stays off: the pump's first picture is its own.
DISABLE_SPLASH:perfuse = "1"

# SPI1 with one chip select: the LS7366R encoder counter (the supervisor's).
# The BCM2835 watchdog, opened only by the supervisor. The official 7" DSI
# touchscreen on the KMS driver. The carrier's own overlay (PWM0 buzzer,
# DS3231 clock) comes from its HAT EEPROM (docs/hat-eeprom.md), with the
# identity the pump checks.
RPI_EXTRA_CONFIG:append:perfuse = " \n# Perfuse carrier\ndtoverlay=spi1-1cs\ndtparam=watchdog=on\ndtoverlay=vc4-kms-dsi-7inch\n"
