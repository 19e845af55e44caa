/* The console's main loop and its actions: keys, mouse clicks and the
 * Actions pane turned into what the user asked for (run_action), and
 * messages from background commands shown between dialogs. */
#ifndef OSIO_CONSOLE_RUN_H
#define OSIO_CONSOLE_RUN_H

#include "console/actions.h"

struct console;

/* Runs until the user quits (con->quit). */
void run_main(struct console *con);
/* Does action a (on the selected VM for VM actions); asks first when it
 * destroys something; says why when it cannot be done now. */
void run_action(struct console *con, enum con_action a);
/* A message box to show once the user is back on the main screen. */
void run_queue_message(struct console *con, const char *title, const char *text);

#endif
