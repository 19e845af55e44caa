/* Pictures of a VM's screen taken by `osio run --screenshot FILE.png` and
 * `--screen-text FILE`: when the VM ends, or at a chosen time while it keeps
 * running. */
#ifndef OSIO_CAPTURE_H
#define OSIO_CAPTURE_H

#include "hypervisor/machine.h"

/* Writes the VGA screen as a PNG (png) and/or, in a text mode, its
 * characters as lines of text (text). Problems are logged; returns 0 when
 * everything asked for was written, else -errno. */
int capture_screen(struct machine *m, const char *png, const char *text);

#endif
