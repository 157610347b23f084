# Reports own no tables yet: dashboards, bulletins and exports arrive with issue 7.
