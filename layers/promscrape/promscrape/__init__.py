"""promscrape: Prometheus scraping as Alloy's prometheus.scrape does it, on AWS Lambda."""

__version__ = "0.1.0"
USER_AGENT = f"promscrape/{__version__}"
