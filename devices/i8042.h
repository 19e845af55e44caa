/* i8042 keyboard controller (ports 0x60/0x64, IRQ 1 and 12) with a PS/2
 * keyboard and mouse: the input side that front ends (VNC, SDL) call. */
#ifndef OSIO_I8042_H
#define OSIO_I8042_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Mouse buttons for i8042_mouse_event. */
#define I8042_BUTTON_LEFT   0x01u
#define I8042_BUTTON_RIGHT  0x02u
#define I8042_BUTTON_MIDDLE 0x04u

/* `kbc` is the state of an "i8042" device (machine_device(m, id)). Both
 * calls are safe from any thread. */

/* One key press or release as scancode set-2 bytes ("1c" press A, "f0 1c"
 * release A, "e0 75" press Up). The keyboard sends them in the set the guest
 * chose, and the controller translates them to set 1 when its command byte
 * says so. Input beyond the keyboard's 16-byte buffer is dropped (and
 * counted) as a real keyboard does; so is input while the guest has told the
 * keyboard to stop scanning (0xF5). */
void i8042_key_event(void *kbc, const uint8_t *set2_bytes, size_t n);

/* Relative motion in mouse counts: dx > 0 right, dy > 0 down (screen
 * direction), dz wheel detents with dz > 0 towards the user (scrolling down),
 * reported only once the guest enabled the IntelliMouse wheel. buttons: the
 * I8042_BUTTON_* now held. Motion the guest has not read yet is merged into
 * the following packets. */
void i8042_mouse_event(void *kbc, int dx, int dy, int dz, unsigned buttons);

/* A mouse packet without motion, so that the guest's mouse driver gets
 * IRQ 12 and looks at an absolute pointer beside the mouse (vmmouse); only
 * while the guest has mouse reporting on. */
void i8042_mouse_wake(void *kbc);

/* The controller also registers its keyboard (evdev key codes become set-2
 * sequences, devices/ps2_keys.h) and its mouse (relative motion) with the
 * VM's input router (hypervisor/input.h) while it exists. */

/* The A20 gate as the guest last set it through the output port. */
bool i8042_a20(void *kbc);
/* Keyboard LEDs as the guest last set them: bit 0 scroll, 1 num, 2 caps. */
unsigned i8042_kbd_leds(void *kbc);
/* Input events lost so far to full buffers. */
void i8042_input_dropped(void *kbc, uint64_t *kbd, uint64_t *mouse);

#endif
