package portal

// Text exposes the strings table to the external tests.
var Text = t
