/* Connect: the VM's screen as the user wants it.
 * - connect_vm: osio connect (an SDL2 window) when a display is there
 *   ($DISPLAY or $WAYLAND_DISPLAY), else the viewer command configured in
 *   $OSIO_VNC_VIEWER (given the VNC address as %s, or appended), else the
 *   in-terminal view; the user may pick another from a short menu.
 * - connect_terminal: the VM's screen inside the terminal at full size:
 *   text modes cell for cell as characters with their colours (control
 *   command display-text), graphics modes as half blocks; keys typed go to
 *   the VM (input-key); Ctrl-] (shown on the top line) comes back to the
 *   console, as does the VM stopping.
 * - connect_serial: the VM's serial console (osio serial NAME) on the
 *   terminal; Ctrl-] comes back. */
#ifndef OSIO_CONSOLE_CONNECTVIEW_H
#define OSIO_CONSOLE_CONNECTVIEW_H

struct console;

void connect_vm(struct console *con, const char *name);
void connect_terminal(struct console *con, const char *name);
void connect_serial(struct console *con, const char *name);

#endif
