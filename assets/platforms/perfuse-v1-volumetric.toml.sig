# Detached Ed25519 signature over the exact bytes of the file it sits beside.
key_id = "perfuse-development-only-2026"
algorithm = "ed25519"
signature = "0bd420d47bfe816445aeb251fd2c10e45ed4dbd3f99eda0780d05bcd122ebd39ad666e276518f567a7c7985b3eca42fbe938b33c3ff29f086af532146a4fa202"
