package fleetapp

// PairingURL is the link that adds the app of domain's virtual key to a
// car: the owner opens it on the phone that has the Tesla app (tapped, or
// scanned as a QR code), and confirms in the app and on the car's card.
func PairingURL(domain string) string { return "https://tesla.com/_ak/" + domain }
