/*
 * table.h: reading the judged tables (judged.tsv, questions.tsv), one
 * case a line, '#' comments and blank lines between them.  Include
 * after stdio.h and string.h.
 */
#ifndef SDX_TEST_TABLE_H
#define SDX_TEST_TABLE_H

#include <stdbool.h>

/*
 * The next case of the table F into LINE (SIZE bytes, its newline cut),
 * counting lines in *LINENO; false at the end.
 */
static inline bool
t_table_line(FILE *f, char *line, size_t size, size_t *lineno)
{
    while (fgets(line, (int)size, f)) {
        (*lineno)++;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] != '#' && line[0] != '\0')
            return true;
    }
    return false;
}

#endif /* SDX_TEST_TABLE_H */
