/* ACPI PM1 fixed-hardware registers (PM1a event and control blocks, PM
 * timer): the register bits, what the FADT must declare, the power button. */
#ifndef OSIO_ACPI_PM_H
#define OSIO_ACPI_PM_H

#include <stdbool.h>
#include <stdint.h>

/* The PM timer is 24 bits wide, as on the PIIX4 that QEMU models: the FADT
 * must leave TMR_VAL_EXT (flags bit 8) clear. Reads of bits 24-31 give 0. */
#define ACPI_PM_TMR_32BIT 0
#define ACPI_PM_TMR_BITS  24
#define ACPI_PM_TMR_FREQ  3579545 /* Hz */

/* Offsets from the device's base (PORT_ACPI_PM), matching platform.h. */
#define ACPI_PM1_STS_OFF 0 /* PM1a_EVT_BLK, 2 bytes: status */
#define ACPI_PM1_EN_OFF	 2 /* 2 bytes: enable */
#define ACPI_PM1_CNT_OFF 4 /* PM1a_CNT_BLK, 2 bytes */
#define ACPI_PM_TMR_OFF	 8 /* PM_TMR_BLK, 4 bytes */

/* PM1_STS (write 1 to clear) and PM1_EN bits (ACPI 6.x, 4.8.4.1). */
#define ACPI_PM1_TMR	(1u << 0)
#define ACPI_PM1_BM_STS (1u << 4) /* status only */
#define ACPI_PM1_GBL	(1u << 5)
#define ACPI_PM1_PWRBTN (1u << 8)
#define ACPI_PM1_SLPBTN (1u << 9)
#define ACPI_PM1_RTC	(1u << 10)
#define ACPI_PM1_WAK	(1u << 15) /* status only */

/* PM1_CNT bits (4.8.4.2.1). */
#define ACPI_PM1_CNT_SCI_EN	   (1u << 0) /* always 1: no SMI command port */
#define ACPI_PM1_CNT_BM_RLD	   (1u << 1)
#define ACPI_PM1_CNT_GBL_RLS	   (1u << 2) /* write-only */
#define ACPI_PM1_CNT_SLP_TYP_SHIFT 10
#define ACPI_PM1_CNT_SLP_TYP	   (7u << ACPI_PM1_CNT_SLP_TYP_SHIFT)
#define ACPI_PM1_CNT_SLP_EN	   (1u << 13) /* write-only */

/* `pm` is the state of an "acpi-pm" device (machine_device(m, id)). Presses
 * the power button: sets PWRBTN_STS and so raises the SCI if PWRBTN_EN is
 * set (an ACPI OS then shuts down). Safe from any thread. */
void acpi_pm_power_button(void *pm);

/* Moves the register block to I/O port `base`, or takes it off the bus
 * (enabled false): the PIIX4 PM function's PMBA and PMIOSE registers do
 * this. -EEXIST when something else holds the new ports (the block then
 * decodes nothing). */
int acpi_pm_set_base(void *pm, uint16_t base, bool enabled);

#endif
