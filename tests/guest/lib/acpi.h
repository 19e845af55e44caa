/* The firmware's ACPI tables as an OS finds them: the RSDP (EBDA, then
 * 0xE0000-0xFFFFF), tables through the RSDT (paging off: 32-bit pointers),
 * the S5 sleep type in the DSDT, and entering S5 through PM1a/PM1b. */
#ifndef GUEST_LIB_ACPI_H
#define GUEST_LIB_ACPI_H
#include "types.h"

/* FADT fields (ACPI 1.0 offsets). */
#define FADT_DSDT	  40
#define FADT_SMI_CMD	  48
#define FADT_ACPI_ENABLE  52
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1B_EVT_BLK 60
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1B_CNT_BLK 68

/* PM1 registers: status and enable at the event block (+0, +2), control. */
#define PM1_PWRBTN (1u << 8)
#define PM1_SLP_EN (1u << 13)
#define PM1_SCI_EN 1u

u32 acpi_rd32(const u8 *p);
/* The RSDP with a valid checksum, or NULL. */
const u8 *acpi_rsdp(void);
/* A table at a 32-bit address with this signature and a valid checksum,
 * or NULL. */
const u8 *acpi_table(u32 addr, const char *sig);
/* The first table with this signature listed in the RSDT, or NULL. */
const u8 *acpi_find(const u8 *rsdp, const char *sig);
/* SLP_TYPa and SLP_TYPb of \_S5 in the DSDT. */
bool acpi_s5(const u8 *dsdt, int *a, int *b);
/* Writes SLP_TYP | SLP_EN into PM1a (and PM1b when there is one). */
void acpi_enter_sleep(u32 pm1a_cnt, u32 pm1b_cnt, int typ_a, int typ_b);
#endif
