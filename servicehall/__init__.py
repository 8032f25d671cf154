"""The service hall's own logic on the generic engine: its indicators (R-K1), periodic reports
(R-K3), retention floors (R-C9, R-F2), the day of the demo, and the diagrams, forms and default
configuration it ships (`bundle`)."""
