# The Perfuse kernel (in the perfuse distro only): fully preemptible
# (PREEMPT_RT, in mainline since 6.12) for the 1 ms control period, and a
# watchdog that cannot be stopped once the supervisor has opened it.
FILESEXTRAPATHS:prepend:perfuse := "${THISDIR}/files:"
SRC_URI:append:perfuse = " file://perfuse-rt.cfg"
