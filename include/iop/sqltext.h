/*
 * sqltext.h - the SQL files of sql/, compiled into the binary by
 * tools/embed-sql.sh (sql/NAME.sql becomes iop_sql_NAME).
 */
#ifndef IOP_SQLTEXT_H
#define IOP_SQLTEXT_H

extern const char iop_sql_schema[];
extern const char iop_sql_views[];

#endif
