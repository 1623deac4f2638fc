/** A value bound to a `?` placeholder: the SQL builders produce them, the query engines bind them. */
export type QueryParam = string | number | boolean | null;
