/* host_nic.h: the host kernel's TAP-backed vmnics (host_nic.c). */
#ifndef _HOST_NIC_H_
#define _HOST_NIC_H_

#include <stdint.h>

extern uint64_t host_tap_write_errors;
extern uint64_t host_fail_tap_write_at;   /* fault injection */
/* Wait for the reaper to close every TAP it was given. */
void host_nic_fini(void);

#endif
