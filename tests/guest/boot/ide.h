/* The boot-media programs' IDE driver is the guest library's (lib/ide.h). */
#ifndef GUEST_BOOT_IDE_H
#define GUEST_BOOT_IDE_H

#include "../lib/ide.h"

#endif
