package event

//go:generate go tool msgp -io=false -file pos.go -o pos_gen.go

//msgp:limit arrays:1024 maps:256

// Point-of-sale (POS / ordering platform) event kinds.
const (
	// KindPOS is a notification from an ordering platform (Doshii):
	// an order, transaction, booking, check-in, table, menu, location or
	// loyalty object changed. Its payload is thin; URI names the full
	// object.
	KindPOS = "pos.event"
)

// POSEvent is one notification of an ordering platform, normalised.
// Meta.Raw keeps the upstream message verbatim (its envelope included);
// Meta.ID is empty and Meta.Time 0, since the platform's thin payloads carry
// neither an event id nor a time.
type POSEvent struct {
	Meta Meta `msg:"m" json:"meta"`
	// Name is the event name, canonical ("checkin_updated" for the SDK's
	// "ckeckin_updated"); unknown names are kept as sent.
	Name string `msg:"name" json:"name"`
	// Category groups names by object: order, transaction, booking,
	// checkin, table, menu, location, loyalty, card, or other. It is the
	// last level of the event's channel.
	Category string `msg:"cat" json:"category"`
	// ID is the object's id (an order id for order_*, a location id for
	// location_subscription), as text.
	ID     string `msg:"id,omitempty" json:"id,omitempty"`
	Status string `msg:"st,omitempty" json:"status,omitempty"`
	// URI is the REST address of the full object.
	URI string `msg:"uri,omitempty" json:"uri,omitempty"`
	// LocationID is the platform's location id; MappedLocationID the
	// POS's own id for that location.
	LocationID       string `msg:"loc,omitempty" json:"locationId,omitempty"`
	MappedLocationID string `msg:"mloc,omitempty" json:"mappedLocationId,omitempty"`
	// Fields holds the payload's other keys with their JSON values as
	// msgpack values (objects as maps, arrays as arrays, integers as
	// integers). A value nested deeper than the connector keeps, or an
	// object or array larger than a frame may hold, is its JSON text.
	Fields map[string]interface{} `msg:"x,omitempty" json:"fields,omitempty"`
}

func (*POSEvent) Kind() string    { return KindPOS }
func (e *POSEvent) Header() *Meta { return &e.Meta }

func init() {
	register(KindPOS, false, func() Event { return new(POSEvent) })
}

// POSChannel is pos/<locationId>/<category>. An event without a location
// id is filed under the level "_". Levels are sanitised like every level
// (lower-cased): the event's LocationID keeps the exact id.
func POSChannel(locationID, category string) string {
	return "pos/" + level(locationID) + "/" + level(category)
}
