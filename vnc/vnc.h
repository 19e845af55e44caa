/* The VNC server of a VM (libvncserver): the display surface to any VNC
 * viewer or noVNC, and the viewers' keyboard and pointer to the VM. */
#ifndef OSIO_VNC_H
#define OSIO_VNC_H

#include "hypervisor/vmspec.h"

struct machine;
struct display_surface;
struct vnc_server;

/* Starts serving s for the VM (vm_name is the desktop name viewers show) as
 * spec says, with its own threads. Logs one clear line and returns -errno on
 * failure (port busy, bad password file, unknown keymap, non-loopback without
 * a password and without spec->insecure). */
int vnc_server_start(struct machine *m, struct display_surface *s, const struct vnc_spec *spec,
		     const char *vm_name, struct vnc_server **out);
/* Where it listens, for people: "127.0.0.1:5901", "[::1]:5902",
 * "unix:/run/user/1000/osio/vm.vnc". */
const char *vnc_server_address(const struct vnc_server *v);
/* The TCP port it listens on (0 for a Unix socket): for tests and tools. */
unsigned vnc_server_port(const struct vnc_server *v);
/* Disconnects every viewer (releasing the keys they hold), joins the threads
 * and frees everything; removes the Unix socket it created. NULL is ignored. */
void vnc_server_stop(struct vnc_server *v);

#endif
