# The kernel command line for the Perfuse carriers (in the perfuse distro only).

# CPU 3, the last, is where perfuse-app pins its control thread: the
# scheduler puts nothing else there, and its timer and RCU work move off it.
ISOLATED_CPUS:perfuse = "3"
CMDLINE_DEBUG:append:perfuse = " nohz_full=3 rcu_nocbs=3 irqaffinity=0-2"
# No Raspberry Pi logo on the panel at boot.
DISABLE_RPI_BOOT_LOGO:perfuse = "1"
