/* vmmouse: VMware's absolute pointer, reached through the VMware backdoor
 * port, beside the i8042's PS/2 mouse. The protocol's numbers, and what the
 * device model ("vmmouse", devargs "i8042=ID") exports. */
#ifndef OSIO_VMMOUSE_H
#define OSIO_VMMOUSE_H

#include <stdbool.h>

/* The backdoor: a 32-bit IN from this port with EAX = the magic and the
 * command in CX; arguments and results in EAX, EBX, ECX, EDX, ESI, EDI. */
#define VMPORT_PORT  0x5658
#define VMPORT_MAGIC 0x564d5868u /* "VMXh" */

#define VMPORT_CMD_GETVERSION	      10 /* EAX = version, EBX = magic, ECX = product type */
#define VMPORT_CMD_ABSPOINTER_DATA    39 /* EBX = words to read (1-6) into EAX.. */
#define VMPORT_CMD_ABSPOINTER_STATUS  40 /* EAX = status << 16 | words queued */
#define VMPORT_CMD_ABSPOINTER_COMMAND 41 /* EBX = one of VMMOUSE_CMD_* */

#define VMMOUSE_CMD_ENABLE	     0x45414552u /* "READ_ID": queues the version */
#define VMMOUSE_CMD_DISABLE	     0x000000f5u
#define VMMOUSE_CMD_REQUEST_RELATIVE 0x4c455252u
#define VMMOUSE_CMD_REQUEST_ABSOLUTE 0x53424152u

#define VMMOUSE_VERSION_ID 0x3442554au /* "JUB4", the first word after ENABLE */
#define VMMOUSE_ERROR	   0xffff0000u /* status of a disabled (or misused) device */

/* An event is four words: flags and buttons, x, y, wheel. */
#define VMMOUSE_RELATIVE_PACKET 0x00010000u
#define VMMOUSE_LEFT_BUTTON	0x20u
#define VMMOUSE_RIGHT_BUTTON	0x10u
#define VMMOUSE_MIDDLE_BUTTON	0x08u

/* `vm` is the state of a "vmmouse" device (machine_device(m, id)): whether
 * the guest has it enabled in absolute mode, i.e. a driver follows the
 * host's pointer exactly. */
bool vmmouse_absolute(void *vm);

#endif
