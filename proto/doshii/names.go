package doshii

// Event names, as the official partner SDK's WebsocketEvents lists them and
// the help pages name them. Decode accepts any name; these are the ones
// fieldrelay knows how to file.
const (
	OrderCreated          = "order_created"
	OrderUpdated          = "order_updated"
	OrderPreprocess       = "order_preprocess"
	TransactionCreated    = "transaction_created"
	TransactionUpdated    = "transaction_updated"
	BookingCreated        = "booking_created"
	BookingUpdated        = "booking_updated"
	CheckinCreated        = "checkin_created"
	CheckinUpdated        = "checkin_updated"
	CheckinDeleted        = "checkin_deleted"
	MenuUpdated           = "menu_updated"
	AppMenuUpdated        = "app_menu_updated"
	AppMenuItemUpdated    = "app_menu_item_updated"
	TableCreated          = "table_created"
	TableUpdated          = "table_updated"
	TableRemoved          = "table_removed"
	TableBulkUpdated      = "table_bulk_updated"
	PointsRedemption      = "points_redemption"
	RewardRedemption      = "reward_redemption"
	CardActivate          = "card_activate"
	CardEnquiry           = "card_enquiry"
	LocationSubscription  = "location_subscription"
	LocationHoursUpdated  = "location_hours_updated"
	AppStoreStatusUpdated = "app_store_status_updated"
	LoyaltyCheckinCreated = "loyalty_checkin_created"
	LoyaltyCheckinUpdated = "loyalty_checkin_updated"
	LoyaltyCheckinDeleted = "loyalty_checkin_deleted"

	// CheckinUpdatedSDKTypo is how the partner SDK spells checkin_updated.
	// Canonical maps it to CheckinUpdated.
	CheckinUpdatedSDKTypo = "ckeckin_updated"

	// Names that are heartbeats, not events.
	nameMessage     = "message"      // {"type":"message","data":{"doshii":{…}}}
	nameHealthCheck = "health_check" // {"event":"health_check","data":{"ping":…}}
)

// Categories group event names by the object they are about. They are the
// last level of fieldrelay's pos/<locationId>/<category> channels.
const (
	CategoryOrder       = "order"
	CategoryTransaction = "transaction"
	CategoryBooking     = "booking"
	CategoryCheckin     = "checkin"
	CategoryTable       = "table"
	CategoryMenu        = "menu"
	CategoryLocation    = "location"
	CategoryLoyalty     = "loyalty"
	CategoryCard        = "card"
	// CategoryOther is the category of every name not listed in Names.
	CategoryOther = "other"
)

// categories maps every known canonical name to its category.
var categories = map[string]string{
	OrderCreated:          CategoryOrder,
	OrderUpdated:          CategoryOrder,
	OrderPreprocess:       CategoryOrder,
	TransactionCreated:    CategoryTransaction,
	TransactionUpdated:    CategoryTransaction,
	BookingCreated:        CategoryBooking,
	BookingUpdated:        CategoryBooking,
	CheckinCreated:        CategoryCheckin,
	CheckinUpdated:        CategoryCheckin,
	CheckinDeleted:        CategoryCheckin,
	MenuUpdated:           CategoryMenu,
	AppMenuUpdated:        CategoryMenu,
	AppMenuItemUpdated:    CategoryMenu,
	TableCreated:          CategoryTable,
	TableUpdated:          CategoryTable,
	TableRemoved:          CategoryTable,
	TableBulkUpdated:      CategoryTable,
	PointsRedemption:      CategoryLoyalty,
	RewardRedemption:      CategoryLoyalty,
	LoyaltyCheckinCreated: CategoryLoyalty,
	LoyaltyCheckinUpdated: CategoryLoyalty,
	LoyaltyCheckinDeleted: CategoryLoyalty,
	CardActivate:          CategoryCard,
	CardEnquiry:           CategoryCard,
	LocationSubscription:  CategoryLocation,
	LocationHoursUpdated:  CategoryLocation,
	AppStoreStatusUpdated: CategoryLocation,
}

// aliases maps misspellings seen in circulation to the canonical name.
var aliases = map[string]string{
	CheckinUpdatedSDKTypo: CheckinUpdated,
}

// Canonical returns the canonical spelling of an event name: the SDK's
// "ckeckin_updated" becomes "checkin_updated"; every other name, known or
// not, is returned unchanged.
func Canonical(name string) string {
	if c, ok := aliases[name]; ok {
		return c
	}
	return name
}

// Known reports whether name (after Canonical) is one of the documented
// event names.
func Known(name string) bool {
	_, ok := categories[Canonical(name)]
	return ok
}

// Category returns the category of an event name (after Canonical), or
// CategoryOther for a name this package does not know.
func Category(name string) string {
	if c, ok := categories[Canonical(name)]; ok {
		return c
	}
	return CategoryOther
}

// Names returns every known canonical event name (not the aliases), in no
// particular order.
func Names() []string {
	out := make([]string, 0, len(categories))
	for n := range categories {
		out = append(out, n)
	}
	return out
}
